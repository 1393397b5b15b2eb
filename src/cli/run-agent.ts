/**
 * `flotilla run-agent <name>`: one agent in the foreground, as the daemon would start it: the same env (its
 * own, the inheritEnv names, the gateway URLs, its current virtual key, FLOTILLA_API_URL when a daemon
 * runs), its brief written first, the same preflight and the same isolation. The systemd template splits it:
 * `--prepare` (with full privileges, ExecStartPre=+) writes the launch into $RUNTIME_DIRECTORY, and
 * `--prepared` (inside the unit's sandbox, which cannot see the state dir) starts it.
 */
import { spawn } from "node:child_process";
import { chownSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readDaemonInfo } from "../api/daemon-files.ts";
import type { LoadedConfig } from "../config/load.ts";
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
import { ensureWorkspace } from "../supervisor/workspace-check.ts";
import { descendants, signal } from "../supervisor/process-tree.ts";
import { instanceId } from "../supervisor/supervisor.ts";
import type { Command } from "./command.ts";
import { agentNames, loadForCli } from "./load.ts";

const USAGE = "flotilla run-agent <name> [--prepare | --prepared] [-c FILE]";
const LAUNCH_FILE = "launch.json";

/** Everything needed to start the agent; in --prepare mode it crosses into the unit's sandbox as a file. */
interface Launch {
  file: string;
  args: string[];
  env: Record<string, string>;
  workspace: string;
  launcher: boolean;
}

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

/** Checks, writes the brief and builds the launch, as the daemon does before a start. */
async function prepare(loaded: LoadedConfig, agent: AgentConfig, underSystemd: boolean): Promise<Launch> {
  const { config } = loaded;
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
  ensureWorkspace(agent.workspace);
  writeBrief(config, agent, api);
  const argv = typeof agent.command === "string" ? ["/bin/sh", "-c", agent.command] : [...agent.command];
  const isolated = isolatedLaunch(agent, isolation, view, argv);
  // Under systemd the unit's User= switches user (setpriv is dropped); MemoryMax=/CPUQuota=/LimitNOFILE= apply.
  const command = underSystemd && isolation.mode === "user" ? argv : isolated.argv;
  const plan = planLaunch(
    {
      ...agent,
      command,
      limits: { ...(agent.limits.files === undefined || underSystemd ? {} : { files: agent.limits.files }) },
    },
    "run-agent",
  );
  return { file: plan.file, args: plan.args, env, workspace: agent.workspace, launcher: isolated.launcher };
}

function runtimeDir(): string {
  const dir = process.env.RUNTIME_DIRECTORY?.split(":")[0];
  if (!dir)
    throw new FlotillaError(
      "FLOTILLA_E_USAGE",
      "--prepare and --prepared pass the launch through $RUNTIME_DIRECTORY, which systemd sets from RuntimeDirectory=; without systemd run plain flotilla run-agent NAME",
    );
  return dir;
}

/** --prepare: the launch, readable only by the user the unit runs the agent as (the folder's owner). */
function savePrepared(launch: Launch): void {
  const dir = runtimeDir();
  const file = join(dir, LAUNCH_FILE);
  writeFileSync(file, JSON.stringify(launch), { mode: 0o600 });
  const owner = statSync(dir);
  chownSync(file, owner.uid, owner.gid);
}

/** --prepared: the launch --prepare wrote, removed once read (the key lives on only in the agent's env). */
function loadPrepared(name: string): Launch {
  const file = join(runtimeDir(), LAUNCH_FILE);
  try {
    const launch = JSON.parse(readFileSync(file, "utf8")) as Launch;
    rmSync(file, { force: true });
    return launch;
  } catch {
    throw new FlotillaError(
      "FLOTILLA_E_STATE",
      `${file}: no prepared launch for ${name}; the unit's ExecStartPre=+flotilla run-agent ${name} --prepare writes it`,
    );
  }
}

function start(name: string, launch: Launch): Promise<number> {
  const child = spawn(launch.file, launch.args, { cwd: launch.workspace, env: launch.env, stdio: "inherit" });
  // A launcher (bwrap) ends with the agent: the signal goes to what runs inside it, as the daemon does.
  const forward = (sig: NodeJS.Signals) => {
    if (!launch.launcher || child.pid === undefined) return void child.kill(sig);
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
}

export const runAgentCommand: Command = {
  name: "run-agent",
  summary:
    "Run one agent in the foreground as the daemon would (what the flotilla-agent@ systemd template starts)",
  usage: USAGE,
  options: { prepare: { type: "boolean" }, prepared: { type: "boolean" } },
  async run(input) {
    const [name = ""] = agentNames(input, USAGE);
    if (input.values.prepared === true) return start(name, loadPrepared(name));
    const loaded = loadForCli(input);
    const agent = loaded.config.agents.find((a) => a.name === name);
    if (!agent) {
      throw new FlotillaError(
        "FLOTILLA_E_UNKNOWN_AGENT",
        `no agent named "${name}" (agents: ${loaded.config.agents.map((a) => a.name).join(", ")})`,
      );
    }
    if (input.values.prepare !== true) return start(name, await prepare(loaded, agent, false));
    savePrepared(await prepare(loaded, agent, true));
    return 0;
  },
};
