/** `flotilla up [--detach]`: validate, start the daemon process, wait for its API, print the fleet; stay in the foreground unless --detach. */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { flushCompileCache, getCompileCacheDir } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectDaemon } from "../api/client.ts";
import { ensureStateDir, ensureToken, readDaemonInfo } from "../api/daemon-files.ts";
import { type Settlement, settleJournal } from "../migrations/apply-journal.ts";
import { type LoadedConfig, loadConfig } from "../config/load.ts";
import { FlotillaError } from "../errors.ts";
import { daemonEnv, fleetWiring } from "../fleet/fleet-wiring.ts";
import type { AgentStatus } from "../supervisor/agent-runner.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";
import { whenParentGone } from "./parent-watch.ts";
import { selfCommand } from "./self-command.ts";
import { renderStatusTable } from "./status-table.ts";
import { clearStoppedMarker, fleetStoppedOnPurpose, startEmbeddedWatchdog } from "../watchdog/embedded.ts";

const DAEMON_ENTRY = fileURLToPath(new URL("../../bin/flotilla-daemon.js", import.meta.url));
const SETTLE_POLL_MS = 200;
/** How long `up` waits for the daemon to open its API before it stops the daemon and says why (ms). */
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3000;

/** Waits until no agent is starting (or the timeout passes), so the first table means something. */
async function settled(getStatus: () => Promise<AgentStatus[]>, timeoutMs: number): Promise<AgentStatus[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const agents = await getStatus();
    if (Date.now() > deadline || agents.every((a) => a.state !== "starting")) return agents;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
}

function nextSteps(loaded: LoadedConfig): string {
  const c = `-c ${loaded.file}`;
  const me = selfCommand();
  return [
    "",
    "where to look next:",
    `  ${me} status ${c}            the table above, live`,
    `  ${me} logs -f ${c}           follow every agent's output`,
    `  ${me} down ${c}              stop everything`,
    `  logs: ${join(loaded.config.stateDir, "logs")}   ledger: ${join(loaded.config.stateDir, "ledger.db")}`,
  ].join("\n");
}

/** Warms the compile cache with the daemon's modules so the daemon process never loads the TypeScript stripper. */
async function warmDaemonModules(): Promise<NodeJS.ProcessEnv> {
  await import("../daemon-main.ts");
  flushCompileCache();
  // The cache folder is keyed by Node version and V8 flags: the daemon runs with the same (none), and is
  // given the parent folder, so it reads exactly what the CLI just wrote.
  const dir = getCompileCacheDir();
  return dir ? { ...process.env, NODE_COMPILE_CACHE: dirname(dir) } : process.env;
}

function spawnDaemon(
  loaded: LoadedConfig,
  options: { detach: boolean; json: boolean; env: NodeJS.ProcessEnv; recovered: Settlement | undefined },
) {
  const logFile = join(loaded.config.stateDir, "daemon.log");
  let offset = 0;
  let out: number | undefined;
  if (options.detach) {
    out = openSync(logFile, "a", 0o600);
    offset = fstatSync(out).size;
  }
  // The daemon's environment holds no secret a reference names: those travel on its stdin.
  const child = spawn(process.execPath, [DAEMON_ENTRY], {
    detached: options.detach,
    stdio: ["pipe", out ?? "inherit", out ?? "inherit"],
    env: daemonEnv(loaded.config, options.env),
  });
  if (out !== undefined) closeSync(out);
  child.stdin?.end(
    JSON.stringify({
      loaded,
      wiring: fleetWiring(loaded),
      text: readFileSync(loaded.file, "utf8"),
      quiet: options.json && !options.detach,
      ...(options.recovered ? { recovered: options.recovered } : {}),
    }),
  );
  const failure = () => {
    if (!options.detach) return "";
    return readFileSync(logFile)
      .subarray(offset)
      .toString("utf8")
      .trim()
      .replace(/^flotilla up: /gm, "");
  };
  return { child, failure };
}

/** SIGTERM, then SIGKILL after a grace period: resolves once the daemon process is gone. */
async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  await gone;
  clearTimeout(timer);
}

/** Resolves once the daemon's API is up; rejects (with the daemon's own error) when it exits first. */
async function waitForApi(
  stateDir: string,
  child: ChildProcess,
  failure: () => string,
): Promise<"up" | number> {
  let exitCode: number | null = null;
  child.once("exit", (code) => {
    exitCode = code ?? 1;
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const info = readDaemonInfo(stateDir);
    if (info?.api && info.pid === child.pid) return "up";
    if (exitCode !== null) {
      const reason = failure();
      if (reason) throw new FlotillaError("FLOTILLA_E_PREFLIGHT", reason);
      return exitCode;
    }
    if (Date.now() > deadline) {
      // Leave no hidden daemon behind: one that cannot open its API in time is stopped.
      await stopDaemon(child);
      const said = failure().split("\n").slice(-5).join("; ");
      throw new FlotillaError(
        "FLOTILLA_E_DAEMON_UNREACHABLE",
        `the daemon did not open its API within ${START_TIMEOUT_MS / 1000}s and was stopped; ${said ? `daemon.log says: ${said}` : `see ${stateDir}/daemon.log`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const upCommand: Command = {
  name: "up",
  summary: "Start the daemon and the fleet (foreground; --detach to run in the background)",
  usage: "flotilla up [--detach] [--no-watchdog] [--unless-stopped] [-c FILE] [--json]",
  options: {
    detach: { type: "boolean", short: "d" },
    "no-watchdog": { type: "boolean" },
    "unless-stopped": { type: "boolean" },
  },
  async run(input) {
    const loaded = loadForCli(input);
    // What the watchdog runs: a fleet stopped with `flotilla down` meanwhile stays stopped.
    if (input.values["unless-stopped"] === true && fleetStoppedOnPurpose(loaded.config.stateDir)) {
      const message =
        "the fleet was stopped with flotilla down; not starting it (run flotilla up to start it)";
      if (input.json) printJson({ started: false, stoppedOnPurpose: true, message });
      else print(message);
      return 0;
    }
    return launchFleet(loaded, {
      detach: input.values.detach === true,
      json: input.json,
      watchdog: input.values["no-watchdog"] !== true,
    });
  },
};

/** Starts the daemon for a loaded config; in the foreground, returns when the daemon exits. */
export async function launchFleet(
  given: LoadedConfig,
  options: { detach: boolean; json: boolean; watchdog?: boolean },
): Promise<number> {
  const { stateDir } = given.config;
  const running = readDaemonInfo(stateDir);
  if (running) {
    // Like `docker compose up`: asking for what already is, is not an error.
    if (options.json) printJson({ alreadyRunning: true, pid: running.pid, api: running.api || null });
    else print(`already running (daemon pid ${running.pid}); "${selfCommand()} status" shows the fleet`);
    return 0;
  }
  ensureStateDir(stateDir);
  ensureToken(stateDir);
  clearStoppedMarker(stateDir);
  // A daemon killed mid-apply left a journal: settle on one whole config before anything starts.
  const recovered = settleJournal(stateDir);
  const loaded = recovered ? loadConfig(given.file) : given;
  if (recovered && !options.json)
    print(`an interrupted config apply (${recovered.id}) was ${recovered.action.replace("_", " ")}`);
  const env = await warmDaemonModules();
  const { child, failure } = spawnDaemon(loaded, { ...options, env, recovered });
  const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  // In the foreground the fleet ends with this process's parent too (npm start killed with SIGTERM).
  const unwatch = options.detach ? () => {} : whenParentGone(onTerm);
  if (!options.detach) {
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  }
  try {
    const started = await waitForApi(stateDir, child, failure);
    if (started !== "up") return started;
    const client = connectDaemon(stateDir);
    // The watchdog runs outside the daemon's tree (a daemon crash leaves it running); under systemd, a timer runs it.
    if (options.watchdog !== false) {
      const { secrets, proxy } = fleetWiring(loaded);
      startEmbeddedWatchdog(loaded, daemonEnv(loaded.config), secrets ?? {}, proxy ?? {});
    }
    const settleMs = Math.max(5000, ...loaded.config.agents.map((a) => a.health.grace));
    const agents = await settled(
      async () => (await client.get<{ agents: AgentStatus[] }>("/v1/status")).agents,
      settleMs,
    );
    if (options.json) printJson({ api: client.info.api, pid: client.info.pid, agents });
    else
      print(
        `\nflotilla daemon pid ${client.info.pid}, API ${client.info.api}\n${renderStatusTable(agents)}${nextSteps(loaded)}\n`,
      );
    if (options.detach) {
      child.unref();
      return 0;
    }
    return await exited;
  } finally {
    unwatch();
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}
