/** The fleet: one runner per agent, a preflight before anything starts, and orphan clean-up after a daemon death. */
import { join } from "node:path";
import type { AgentConfig, FlotillaConfig } from "../config/schema.ts";
import { FlotillaError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import type { Store } from "../ledger/store.ts";
import { agentMarks, buildAgentEnv } from "./agent-env.ts";
import { type AgentRunner, type AgentStatus, createAgentRunner } from "./agent-runner.ts";
import { isolatedLaunch, isolationProblems } from "../isolation/launch.ts";
import { fleetView, isolationOf } from "../isolation/policy.ts";
import { planLaunch } from "./limits.ts";
import { createLogSink, type LogLine, type LogSink } from "./log-sink.ts";
import { checkAgent, failPreflight, secretProblems, withoutSecrets } from "./preflight.ts";
import { ensureWorkspace } from "./workspace-check.ts";
import { createRunRegistry } from "./run-registry.ts";

/**
 * A short id for one state dir: every process of this fleet carries it as FLOTILLA_INSTANCE.
 * Two FNV-1a passes: the id must stay the same across releases, since orphan clean-up finds strays by it.
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
  /** The config file (never writable by a sandboxed agent); default: none known. */
  configFile?: string;
  /** Values of the secret references the agents' env names ({ env } refs), handed over by the CLI. */
  secretEnv?: Record<string, string>;
  /**
   * What to write on an internal process's stdin at each start (the gateway's provider secrets), from the
   * config and secrets the supervisor holds then: during a config apply, the ones being applied.
   */
  stdinFor?: (name: string, config: FlotillaConfig, secretEnv: Record<string, string>) => string | undefined;
}

/** What an agent's env is built from: the config (inheritEnv) and the env injected per agent. */
export interface EnvSource {
  config: FlotillaConfig;
  injectedEnv: Record<string, Record<string, string>>;
  /** Values for the config's { env } secret references (default: the ones the supervisor has now). */
  secretEnv?: Record<string, string>;
}

export function createSupervisor(options: SupervisorOptions) {
  const { store } = options;
  // Replaced as a whole by reconfigure() when a config apply changes the fleet.
  let config = options.config;
  let injectedEnv = options.injectedEnv ?? {};
  let secretEnv = options.secretEnv ?? {};
  const configFile = options.configFile ?? "";
  const internalNames = new Set((options.internal ?? []).map((a) => a.name));
  const fleet: AgentConfig[] = [...(options.internal ?? []), ...config.agents];
  const instance = instanceId(config.stateDir);
  const registry = createRunRegistry(config.stateDir);
  const runners = new Map<string, AgentRunner>();
  const sinks = new Map<string, LogSink>();
  const specs = new Map<string, AgentConfig>();
  // The last lines of removed agents: `logs` still shows them, and a re-added agent's ring starts with them.
  const retired = new Map<string, LogLine[]>();

  function runner(name: string): AgentRunner {
    const found = runners.get(name);
    if (!found) {
      const known = [...runners.keys()].join(", ") || "none";
      const hint = didYouMean(name, [...runners.keys()]);
      throw new FlotillaError(
        "FLOTILLA_E_UNKNOWN_AGENT",
        `no agent named "${name}"${hint} (agents: ${known})`,
        {
          status: 404,
        },
      );
    }
    return found;
  }

  function envFor(agent: AgentConfig, from: EnvSource = { config, injectedEnv }): Record<string, string> {
    return buildAgentEnv(
      agent,
      instance,
      from.config.inheritEnv,
      { ...process.env, ...(from.secretEnv ?? secretEnv) },
      from.injectedEnv[agent.name],
    );
  }

  /**
   * Preflight for these agents, with the env they would get from `target` (default: the config now);
   * ports in `ownPorts` belong to agents about to stop and count as free.
   */
  async function check(
    agents: AgentConfig[],
    ownPorts = new Set<number>(),
    target?: EnvSource,
  ): Promise<string[]> {
    const problems: string[] = [];
    for (const agent of agents) {
      try {
        const checked =
          agent.port !== undefined && ownPorts.has(agent.port) ? { ...agent, port: undefined } : agent;
        // Every missing secret is named, and the other checks still run with the env that can be built.
        const secrets = { ...process.env, ...(target?.secretEnv ?? secretEnv) };
        const missing = secretProblems(agent, secrets);
        problems.push(...missing);
        const env = envFor(missing.length > 0 ? withoutSecrets(agent) : agent, target);
        problems.push(...(await checkAgent(checked, env)));
        if (!internalNames.has(agent.name)) {
          const fleetConfig = target?.config ?? config;
          problems.push(
            ...isolationProblems(
              agent,
              isolationOf(agent, fleetConfig.isolation),
              fleetView(fleetConfig, configFile),
            ),
          );
        }
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    return problems;
  }

  /** Builds an agent's runner; its workspace is made here, after preflight passed. */
  function build(agent: AgentConfig): void {
    ensureWorkspace(agent.workspace);
    const logs = createLogSink({
      file: join(config.stateDir, "logs", `${agent.name}.log`),
      ...config.logs,
      history: retired.get(agent.name) ?? [],
    });
    retired.delete(agent.name);
    const argv = typeof agent.command === "string" ? ["/bin/sh", "-c", agent.command] : [...agent.command];
    const isolated = internalNames.has(agent.name)
      ? { argv, launcher: false, summary: "flotilla" }
      : isolatedLaunch(agent, isolationOf(agent, config.isolation), fleetView(config, configFile), argv);
    const launch = planLaunch({ ...agent, command: isolated.argv }, instance);
    if (isolated.summary === "none")
      logs.note("not isolated (isolation: none): the agent can read what its user can");
    for (const warning of launch.warnings) logs.note(`limit not applied: ${warning}`);
    if (launch.warnings.length > 0)
      store.append({
        kind: "agent.limits_warning",
        agent: agent.name,
        data: { warnings: launch.warnings },
      });
    sinks.set(agent.name, logs);
    specs.set(agent.name, agent);
    runners.set(
      agent.name,
      createAgentRunner({
        agent,
        env: envFor(agent),
        launch,
        launcher: isolated.launcher,
        isolation: isolated.summary,
        ...(internalNames.has(agent.name) && options.stdinFor
          ? { stdin: () => options.stdinFor?.(agent.name, config, secretEnv) }
          : {}),
        logs,
        marks: agentMarks(instance, agent),
        event: (kind, data) => store.append({ kind, agent: agent.name, ...(data ? { data } : {}) }),
        onProcess: (proc) => registry.set(agent.name, proc),
        ...(options.beforeStart ? { beforeStart: () => options.beforeStart?.(agent) } : {}),
      }),
    );
  }

  async function remove(name: string): Promise<void> {
    await runner(name).stop();
    const sink = sinks.get(name);
    if (sink) retired.set(name, sink.tail(config.logs.ringLines));
    sink?.close();
    sinks.delete(name);
    runners.delete(name);
    specs.delete(name);
  }

  return {
    instance,
    /** Kills leftovers of a dead daemon, checks every agent, and builds the runners; starts nothing. */
    async prepare(): Promise<Array<{ name: string; pid: number }>> {
      const orphans = await registry.cleanupOrphans(instance);
      if (orphans.length > 0) store.append({ kind: "daemon.orphans_cleaned", data: { orphans } });
      failPreflight(await check(fleet));
      for (const agent of fleet) build(agent);
      return orphans;
    },
    startAll(): void {
      for (const [name, agent] of specs) if (agent.autostart) runner(name).start();
    },
    /** Sets the config and injected env that later add/replace calls build agents from. */
    reconfigure(
      next: FlotillaConfig,
      nextEnv: Record<string, Record<string, string>>,
      nextSecrets: Record<string, string> = secretEnv,
    ): void {
      config = next;
      injectedEnv = nextEnv;
      secretEnv = nextSecrets;
    },
    /** Preflight problems for agents about to be added (ports of agents about to stop count as free). */
    check,
    /** Builds a new agent's runner and starts it if it autostarts. */
    add(agent: AgentConfig): void {
      if (runners.has(agent.name)) throw new Error(`agent ${agent.name} already exists`);
      build(agent);
      if (agent.autostart) runner(agent.name).start();
    },
    /** Stops an agent and forgets it. */
    remove,
    /** Stops an agent and starts it again from a new spec. */
    async replace(agent: AgentConfig): Promise<void> {
      await remove(agent.name);
      build(agent);
      if (agent.autostart) runner(agent.name).start();
    },
    /** The spec an agent currently runs with. */
    spec(name: string): AgentConfig | undefined {
      return specs.get(name);
    },
    /**
     * Starts an agent that is not up, after the same preflight as `up` (port free, command found,
     * workspace writable, isolation possible); a problem is an error and nothing starts.
     */
    async start(name: string): Promise<void> {
      const agent = runner(name);
      const state = agent.status().state;
      if (state === "starting" || state === "running" || state === "stopping") return;
      const spec = specs.get(name);
      if (spec) {
        const problems = await check([spec]);
        if (problems.length > 0)
          throw new FlotillaError("FLOTILLA_E_PREFLIGHT", `${problems.join("; ")}; ${name} was not started`, {
            status: 409,
          });
      }
      agent.start();
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
    /** An agent's last log lines; a removed agent's are kept until it is added again. */
    tail(name: string, n: number): LogLine[] {
      const lines = retired.get(name);
      if (lines && !runners.has(name)) return lines.slice(Math.max(0, lines.length - n));
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
