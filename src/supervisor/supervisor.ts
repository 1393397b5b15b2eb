/** The fleet: one runner per agent, a preflight before anything starts, and orphan clean-up after a daemon death. */
import { join } from "node:path";
import type { AgentConfig, FlotillaConfig } from "../config/schema.ts";
import { FlotillaError } from "../errors.ts";
import type { Store } from "../ledger/store.ts";
import { agentMarks, buildAgentEnv } from "./agent-env.ts";
import { type AgentRunner, type AgentStatus, createAgentRunner } from "./agent-runner.ts";
import { planLaunch } from "./limits.ts";
import { createLogSink, type LogLine, type LogSink } from "./log-sink.ts";
import { checkAgent, failPreflight } from "./preflight.ts";
import { createRunRegistry } from "./run-registry.ts";

/**
 * A short id for one state dir: every process of this fleet carries it as FLOTILLA_INSTANCE.
 * Two FNV-1a passes, not node:crypto: the daemon stays free of OpenSSL's memory.
 */
export function instanceId(stateDir: string): string {
  const fnv = (seed: number) => {
    let hash = seed;
    for (let i = 0; i < stateDir.length; i++)
      hash = Math.imul(hash ^ stateDir.charCodeAt(i), 0x01000193) >>> 0;
    return hash.toString(16).padStart(8, "0");
  };
  return `${fnv(0x811c9dc5)}${fnv(0x050c5d1f)}`.slice(0, 12);
}

export interface SupervisorOptions {
  config: FlotillaConfig;
  store: Store;
  /** Hook run before every start and restart of each agent (the startup brief); may return env to add. */
  beforeStart?: (agent: AgentConfig) => Record<string, string> | void;
  /** Flotilla's own supervised processes (the gateway), started before the agents. */
  internal?: AgentConfig[];
  /** Env injected per agent name (gateway URLs, virtual keys). */
  injectedEnv?: Record<string, Record<string, string>>;
}

export function createSupervisor(options: SupervisorOptions) {
  const { config, store } = options;
  const fleet: AgentConfig[] = [...(options.internal ?? []), ...config.agents];
  const instance = instanceId(config.stateDir);
  const registry = createRunRegistry(config.stateDir);
  const runners = new Map<string, AgentRunner>();
  const sinks = new Map<string, LogSink>();

  function runner(name: string): AgentRunner {
    const found = runners.get(name);
    if (!found) {
      const known = [...runners.keys()].join(", ") || "none";
      throw new FlotillaError("FLOTILLA_E_UNKNOWN_AGENT", `no agent named "${name}" (agents: ${known})`, {
        status: 404,
      });
    }
    return found;
  }

  return {
    instance,
    /** Kills leftovers of a dead daemon, checks every agent, and builds the runners; starts nothing. */
    async prepare(): Promise<Array<{ name: string; pid: number }>> {
      const orphans = await registry.cleanupOrphans(instance);
      if (orphans.length > 0) store.append({ kind: "daemon.orphans_cleaned", data: { orphans } });
      const problems: string[] = [];
      const envs = new Map<string, Record<string, string>>();
      for (const agent of fleet) {
        try {
          const env = buildAgentEnv(
            agent,
            instance,
            config.inheritEnv,
            process.env,
            options.injectedEnv?.[agent.name],
          );
          envs.set(agent.name, env);
          problems.push(...(await checkAgent(agent, env)));
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      failPreflight(problems);
      for (const agent of fleet) {
        const logs = createLogSink({
          file: join(config.stateDir, "logs", `${agent.name}.log`),
          ...config.logs,
        });
        const launch = planLaunch(agent, instance);
        for (const warning of launch.warnings) logs.note(`limit not applied: ${warning}`);
        if (launch.warnings.length > 0)
          store.append({
            kind: "agent.limits_warning",
            agent: agent.name,
            data: { warnings: launch.warnings },
          });
        sinks.set(agent.name, logs);
        runners.set(
          agent.name,
          createAgentRunner({
            agent,
            env: envs.get(agent.name) ?? {},
            launch,
            logs,
            marks: agentMarks(instance, agent),
            event: (kind, data) => store.append({ kind, agent: agent.name, ...(data ? { data } : {}) }),
            onProcess: (proc) => registry.set(agent.name, proc),
            ...(options.beforeStart ? { beforeStart: () => options.beforeStart?.(agent) } : {}),
          }),
        );
      }
      return orphans;
    },
    startAll(): void {
      for (const agent of fleet) if (agent.autostart) runner(agent.name).start();
    },
    start(name: string): void {
      runner(name).start();
    },
    stop(name: string): Promise<void> {
      return runner(name).stop();
    },
    restart(name: string): Promise<void> {
      return runner(name).restart();
    },
    status(): AgentStatus[] {
      return [...runners.values()].map((r) => r.status());
    },
    agentStatus(name: string): AgentStatus {
      return runner(name).status();
    },
    tail(name: string, n: number): LogLine[] {
      runner(name);
      return sinks.get(name)?.tail(n) ?? [];
    },
    subscribe(name: string, listener: (line: LogLine) => void): () => void {
      runner(name);
      return sinks.get(name)?.subscribe(listener) ?? (() => {});
    },
    /** Stops every agent (in parallel) and closes the log files. */
    async close(): Promise<void> {
      await Promise.all([...runners.values()].map((r) => r.stop()));
      for (const sink of sinks.values()) sink.close();
    },
  };
}

export type Supervisor = ReturnType<typeof createSupervisor>;
