/** `flotilla up [--detach]`: run the daemon and the fleet in the foreground, or start it in the background and return. */
import { spawn } from "node:child_process";
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectDaemon } from "../api/client.ts";
import { readDaemonInfo } from "../api/daemon-files.ts";
import type { LoadedConfig } from "../config/load.ts";
import { startDaemon } from "../daemon.ts";
import { FlotillaError } from "../errors.ts";
import type { NewEvent } from "../ledger/store.ts";
import type { AgentStatus } from "../supervisor/agent-runner.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";
import { renderStatusTable } from "./status-table.ts";

const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));
const SETTLE_POLL_MS = 200;

function eventLine(event: NewEvent): string {
  const time = new Date().toISOString().slice(11, 19);
  const data = event.data ? ` ${JSON.stringify(event.data)}` : "";
  return `${time} ${(event.agent ?? "daemon").padEnd(12)} ${event.kind}${data}`;
}

/** Waits until no agent is starting (or the timeout passes), so the first table means something. */
async function settled(
  getStatus: () => Promise<AgentStatus[]> | AgentStatus[],
  timeoutMs: number,
): Promise<AgentStatus[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const agents = await getStatus();
    if (Date.now() > deadline || agents.every((a) => a.state !== "starting")) return agents;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
}

function nextSteps(loaded: LoadedConfig): string {
  const c = `-c ${loaded.file}`;
  return [
    "",
    "where to look next:",
    `  flotilla status ${c}          the table above, live`,
    `  flotilla logs <agent> -f ${c} follow one agent's output`,
    `  logs and ledger:             ${join(loaded.config.stateDir, "logs")}, ${join(loaded.config.stateDir, "ledger.db")}`,
    `  flotilla down ${c}            stop everything`,
  ].join("\n");
}

/** Runs the daemon in this process until SIGINT/SIGTERM or `flotilla down`. */
export async function runForeground(loaded: LoadedConfig, json: boolean): Promise<number> {
  const daemon = await startDaemon({
    loaded,
    ...(json ? {} : { onEvent: (e: NewEvent) => print(eventLine(e)) }),
  });
  const onSignal = () => void daemon.stop();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const settleMs = Math.max(5000, ...loaded.config.agents.map((a) => a.health.grace));
  const agents = await settled(() => daemon.supervisor.status(), settleMs);
  if (json) printJson({ api: daemon.url, pid: process.pid, agents });
  else
    print(
      `\nflotilla daemon pid ${process.pid}, API ${daemon.url}\n${renderStatusTable(agents)}${nextSteps(loaded)}\n`,
    );
  await daemon.stopped;
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  return 0;
}

/** Starts the daemon as a detached process, waits for its API, prints the fleet. */
async function runDetached(loaded: LoadedConfig, json: boolean): Promise<number> {
  const { stateDir } = loaded.config;
  const running = readDaemonInfo(stateDir);
  if (running) {
    throw new FlotillaError(
      "FLOTILLA_E_DAEMON_RUNNING",
      `a daemon (pid ${running.pid}) already runs this fleet; use "flotilla status"`,
    );
  }
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const logFile = join(stateDir, "daemon.log");
  const out = openSync(logFile, "a", 0o600);
  const offset = fstatSync(out).size;
  const child = spawn(process.execPath, [BIN, "up", "-c", loaded.file], {
    detached: true,
    stdio: ["ignore", out, out],
    env: process.env,
  });
  closeSync(out);
  let exitCode: number | null = null;
  child.once("exit", (code) => {
    exitCode = code ?? 1;
  });
  child.unref();
  const deadline = Date.now() + 30_000;
  while (readDaemonInfo(stateDir)?.api === undefined || readDaemonInfo(stateDir)?.api === "") {
    if (exitCode !== null || Date.now() > deadline) {
      const output = readFileSync(logFile).subarray(offset).toString("utf8").trim();
      const reason = output.replace(/^flotilla up: /gm, "") || `the daemon did not start; see ${logFile}`;
      throw new FlotillaError("FLOTILLA_E_PREFLIGHT", reason);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const client = connectDaemon(stateDir);
  const settleMs = Math.max(5000, ...loaded.config.agents.map((a) => a.health.grace));
  const agents = await settled(
    async () => (await client.get<{ agents: AgentStatus[] }>("/v1/status")).agents,
    settleMs,
  );
  if (json) printJson({ api: client.info.api, pid: client.info.pid, agents });
  else
    print(
      `flotilla daemon pid ${client.info.pid}, API ${client.info.api}\n${renderStatusTable(agents)}${nextSteps(loaded)}`,
    );
  return 0;
}

export const upCommand: Command = {
  name: "up",
  summary: "Start the daemon and the fleet (foreground; --detach to run in the background)",
  usage: "flotilla up [--detach] [-c FILE] [--json]",
  options: { detach: { type: "boolean", short: "d" } },
  async run(input) {
    const loaded = loadForCli(input);
    return input.values.detach ? runDetached(loaded, input.json) : runForeground(loaded, input.json);
  },
};
