/**
 * The watchdog's own restart of a target: deterministic and trusted (no model chose it). The daemon is
 * killed only when it is alive, not answering and provably Flotilla's, then started again with
 * `flotilla up --detach`; agents, the gateway and oversight are restarted through the daemon's API.
 */
import { readFileSync } from "node:fs";
import { connectDaemon } from "../../api/client.ts";
import { type DaemonInfo, readDaemonInfo } from "../../api/daemon-files.ts";
import type { FlotillaConfig } from "../../config/schema.ts";
import { GATEWAY_AGENT } from "../../fleet/fleet-wiring.ts";
import type { AgentStatus } from "../../supervisor/agent-runner.ts";
import { isAlive, readProc } from "../../supervisor/process-tree.ts";
import type { ActionRun, Target } from "../types.ts";
import { fleetSecrets, lastLines, runFlotilla } from "./run-child.ts";

export interface RecoverContext {
  config: FlotillaConfig;
  configFile: string;
  /** How long one step (an API call, `flotilla up`, `flotilla restore`) may take (ms). */
  timeoutMs: number;
  /** The watchdog's environment: the fleet's secrets, as `flotilla up` reads them. */
  env: NodeJS.ProcessEnv;
}

/** How long a live daemon gets to answer /healthz before it counts as hung (ms), at most. */
const HEALTHZ_TIMEOUT_MS = 2_000;
/** How long a SIGKILLed daemon may take to disappear (ms). */
const KILL_WAIT_MS = 5_000;
const DAEMON_ENTRY = "bin/flotilla-daemon.js";

function ran(argv: string[], started: number, exitCode: number | null, output: string): ActionRun {
  return { argv, origin: "deterministic", exitCode, timedOut: false, output, ms: Date.now() - started };
}

async function answers(info: DaemonInfo, timeoutMs: number): Promise<boolean> {
  if (!info.api) return false;
  try {
    const res = await fetch(`${info.api}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** Why the pid in daemon.json is not the daemon it claims to be, or undefined when it is. */
function notOurDaemon(info: DaemonInfo): string | undefined {
  const proc = readProc(info.pid);
  if (!proc || proc.startTime !== info.startTime)
    return `pid ${info.pid} is no longer the daemon that started`;
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${info.pid}/cmdline`, "utf8").split("\0");
  } catch {
    return `cannot read the command line of pid ${info.pid}`;
  }
  const entry = argv[1] ?? "";
  if (entry !== DAEMON_ENTRY && !entry.endsWith(`/${DAEMON_ENTRY}`))
    return `pid ${info.pid} does not run ${DAEMON_ENTRY}; not killed`;
  return undefined;
}

async function gone(pid: number, startTime: number): Promise<boolean> {
  const deadline = Date.now() + KILL_WAIT_MS;
  while (isAlive(pid, startTime)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Kills a hung daemon of ours (SIGKILL: a SIGSTOPped one ignores SIGTERM), then `flotilla up --detach`. */
async function restartDaemon(ctx: RecoverContext): Promise<ActionRun> {
  const started = Date.now();
  const notes: string[] = [];
  const info = readDaemonInfo(ctx.config.stateDir);
  if (info) {
    if (await answers(info, Math.min(HEALTHZ_TIMEOUT_MS, ctx.timeoutMs)))
      return ran(
        ["GET", "/healthz"],
        started,
        0,
        `the daemon (pid ${info.pid}) answers again; not restarted`,
      );
    const kill = ["kill", "-KILL", String(info.pid)];
    const problem = notOurDaemon(info);
    if (problem) return ran(kill, started, 1, problem);
    try {
      process.kill(info.pid, "SIGKILL");
    } catch (err) {
      return ran(
        kill,
        started,
        1,
        `cannot kill pid ${info.pid}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
      );
    }
    if (!(await gone(info.pid, info.startTime)))
      return ran(
        kill,
        started,
        1,
        `the daemon (pid ${info.pid}) is still there ${KILL_WAIT_MS}ms after SIGKILL`,
      );
    notes.push(`killed the daemon (pid ${info.pid}): alive but not answering`);
  }
  // `up --detach` starts the daemon in a session of its own: it outlives this process. It also cleans up
  // what the dead daemon left running (the run registry) before it starts anything.
  const up = await runFlotilla(
    ["flotilla", "up", "--detach", "--unless-stopped"],
    // --unless-stopped: an operator's `flotilla down` during this recovery wins over it.
    ["up", "--detach", "--unless-stopped", "--json", "-c", ctx.configFile],
    { env: ctx.env, timeoutMs: ctx.timeoutMs, secrets: fleetSecrets(ctx.config, ctx.env) },
  );
  const output = [...notes, up.run.output].filter(Boolean).join("\n");
  return { ...up.run, output, ms: Date.now() - started };
}

/** Restarts an agent (or the gateway) through the daemon; a failed or stopped one is started instead. */
async function restartAgent(name: string, ctx: RecoverContext): Promise<ActionRun> {
  const started = Date.now();
  let client: ReturnType<typeof connectDaemon>;
  try {
    client = connectDaemon(ctx.config.stateDir, { timeoutMs: ctx.timeoutMs });
  } catch {
    return ran(["POST", `/v1/agents/${name}/restart`], started, 1, "daemon down");
  }
  let verb = "restart";
  try {
    const { agents } = await client.get<{ agents: AgentStatus[] }>("/v1/status?usage=0");
    const state = agents.find((a) => a.name === name)?.state;
    if (state === "failed" || state === "stopped") verb = "start";
  } catch (err) {
    return ran(["POST", `/v1/agents/${name}/${verb}`], started, 1, `daemon down: ${(err as Error).message}`);
  }
  return apiCall(client, ["POST", `/v1/agents/${name}/${verb}`], started, ctx, (body) => {
    const agent = (body as { agent?: AgentStatus }).agent;
    return `${name}: ${agent?.state ?? "unknown"}`;
  });
}

async function apiCall(
  client: ReturnType<typeof connectDaemon>,
  argv: [string, string],
  started: number,
  ctx: RecoverContext,
  describe: (body: unknown) => string,
): Promise<ActionRun> {
  try {
    const body = await client.post<unknown>(argv[1]);
    return ran(argv, started, 0, lastLines(describe(body), fleetSecrets(ctx.config, ctx.env)));
  } catch (err) {
    const message = (err as Error).message;
    const down = /did not answer|no daemon/.test(message) ? "daemon down: " : "";
    return ran(argv, started, 1, lastLines(`${down}${message}`, fleetSecrets(ctx.config, ctx.env)));
  }
}

async function restartOversight(ctx: RecoverContext): Promise<ActionRun> {
  const started = Date.now();
  const argv: [string, string] = ["POST", "/v1/oversight/restart"];
  let client: ReturnType<typeof connectDaemon>;
  try {
    client = connectDaemon(ctx.config.stateDir, { timeoutMs: ctx.timeoutMs });
  } catch {
    return ran(argv, started, 1, "daemon down");
  }
  return apiCall(client, argv, started, ctx, (body) => {
    const runId = (body as { runId?: number }).runId;
    return runId === undefined ? "oversight restarted" : `oversight restarted; run #${runId} started`;
  });
}

/**
 * The watchdog's own (deterministic, trusted) restart of a target; returns what ran, or undefined for a
 * target with nothing to restart (the config file, a provider): the loop goes on to restore or escalate.
 */
export function restartTarget(target: Target, ctx: RecoverContext): Promise<ActionRun | undefined> {
  switch (target.kind) {
    case "daemon":
      return restartDaemon(ctx);
    case "gateway":
      return restartAgent(GATEWAY_AGENT, ctx);
    case "agent":
      return restartAgent(target.name, ctx);
    case "oversight":
      return restartOversight(ctx);
    case "config":
    case "provider":
      return Promise.resolve(undefined);
  }
}
