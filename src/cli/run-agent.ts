/**
 * `flotilla run-agent <name>`: one agent in the foreground, as the daemon would start it (what the
 * flotilla-agent@ systemd template runs): the same env (its own, the inheritEnv names, the gateway URLs,
 * its current virtual key, FLOTILLA_API_URL when a daemon runs), its brief written first, the same
 * preflight and the same isolation.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { readDaemonInfo } from "../api/daemon-files.ts";
import type { AgentConfig, FlotillaConfig } from "../config/schema.ts";
import { createConstitution } from "../constitution/service.ts";
import { FlotillaError } from "../errors.ts";
import { agentKeyEnv, fleetWiring } from "../fleet/fleet-wiring.ts";
import { virtualKey } from "../gateway/virtual-keys.ts";
import { isolatedLaunch, isolationProblems } from "../isolation/launch.ts";
import { fleetView, isolationOf } from "../isolation/policy.ts";
import { openSqliteStore } from "../ledger/sqlite-store.ts";
import { buildAgentEnv } from "../supervisor/agent-env.ts";
import { planLaunch } from "../supervisor/limits.ts";
import { checkAgent, failPreflight } from "../supervisor/preflight.ts";
import { descendants, signal } from "../supervisor/process-tree.ts";
import { instanceId } from "../supervisor/supervisor.ts";
import type { Command } from "./command.ts";
import { agentNames, loadForCli } from "./load.ts";

const USAGE = "flotilla run-agent <name> [-c FILE]";

/** Writes the agent's brief as the daemon does before each start; a failure is reported, not fatal. */
function writeBrief(config: FlotillaConfig, agent: AgentConfig, api: string | undefined): void {
  const store = openSqliteStore(join(config.stateDir, "ledger.db"));
  try {
    createConstitution({ config: () => config, store }).writeBrief(agent, api);
  } catch (err) {
    process.stderr.write(`flotilla run-agent: ${agent.name}: brief not written: ${(err as Error).message}\n`);
  } finally {
    store.close();
  }
}

export const runAgentCommand: Command = {
  name: "run-agent",
  summary:
    "Run one agent in the foreground as the daemon would (what the flotilla-agent@ systemd template starts)",
  usage: USAGE,
  async run(input) {
    const [name] = agentNames(input, USAGE);
    const loaded = loadForCli(input);
    const { config } = loaded;
    const agent = config.agents.find((a) => a.name === name);
    if (!agent) {
      throw new FlotillaError(
        "FLOTILLA_E_UNKNOWN_AGENT",
        `no agent named "${name}" (agents: ${config.agents.map((a) => a.name).join(", ")})`,
      );
    }
    const wiring = fleetWiring(loaded);
    const api = readDaemonInfo(config.stateDir)?.api;
    const env = {
      ...buildAgentEnv(
        agent,
        instanceId(config.stateDir),
        config.inheritEnv,
        { ...process.env, ...wiring.secrets },
        wiring.agentEnv[agent.name],
      ),
      ...agentKeyEnv(config, agent, virtualKey(config.stateDir, agent.name)),
      ...(api ? { FLOTILLA_API_URL: api } : {}),
    };
    const isolation = isolationOf(agent, config.isolation);
    const view = fleetView(config, loaded.file);
    failPreflight([...(await checkAgent(agent, env)), ...isolationProblems(agent, isolation, view)]);
    writeBrief(config, agent, api);
    const argv = typeof agent.command === "string" ? ["/bin/sh", "-c", agent.command] : [...agent.command];
    const isolated = isolatedLaunch(agent, isolation, view, argv);
    // Under systemd the unit's MemoryMax=/CPUQuota=/LimitNOFILE= apply; plan only the rlimit wrapper here.
    const launch = planLaunch(
      {
        ...agent,
        command: isolated.argv,
        limits: { ...(agent.limits.files === undefined ? {} : { files: agent.limits.files }) },
      },
      "run-agent",
    );
    const child = spawn(launch.file, launch.args, { cwd: agent.workspace, env, stdio: "inherit" });
    // A launcher (bwrap) ends with the agent: the signal goes to what runs inside it, as the daemon does.
    const forward = (sig: NodeJS.Signals) => {
      if (!isolated.launcher || child.pid === undefined) return void child.kill(sig);
      for (const p of descendants(child.pid)) signal(p.pid, sig);
    };
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => forward(sig));
    return new Promise((resolve) => {
      child.once("error", (err) => {
        process.stderr.write(`flotilla run-agent: ${name}: cannot start: ${err.message}\n`);
        resolve(1);
      });
      child.once("exit", (code, sig) => resolve(code ?? (sig ? 128 + 15 : 1)));
    });
  },
};
