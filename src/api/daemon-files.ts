/** The daemon's files in stateDir: the API token (0600), daemon.json (pid, API address) and the lock that keeps one daemon per state dir. */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FlotillaError } from "../errors.ts";
import { isAlive, readProc } from "../supervisor/process-tree.ts";

export interface DaemonInfo {
  pid: number;
  startTime: number;
  api: string;
  config: string;
  startedAt: number;
}

export function ensureStateDir(stateDir: string): void {
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    chmodSync(stateDir, 0o700);
  } catch (cause) {
    throw new FlotillaError(
      "FLOTILLA_E_STATE",
      `${stateDir}: cannot create the state dir; fix its permissions or set stateDir`,
      {
        cause,
      },
    );
  }
}

/** Creates the API token (192 random bits, mode 0600) unless it exists. Runs in the CLI, before the daemon starts. */
export function ensureToken(stateDir: string): void {
  const file = join(stateDir, "token");
  if (existsSync(file)) return;
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  writeFileSync(file, `${Buffer.from(bytes).toString("base64url")}\n`, { mode: 0o600 });
}

/** The API token; the daemon refuses to start without one. */
export function readToken(stateDir: string): string {
  try {
    const token = readFileSync(join(stateDir, "token"), "utf8").trim();
    if (token.length >= 16) return token;
  } catch {
    // fall through to the error
  }
  throw new FlotillaError(
    "FLOTILLA_E_STATE",
    `${stateDir}/token is missing or too short; start the fleet with "flotilla up", which creates it`,
  );
}

/** The running daemon for this state dir, or undefined when none is alive. */
export function readDaemonInfo(stateDir: string): DaemonInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(stateDir, "daemon.json"), "utf8")) as DaemonInfo;
    return isAlive(info.pid, info.startTime) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Claims the state dir for this process; fails when another live daemon holds it. */
export function claimStateDir(stateDir: string, configFile: string): void {
  const running = readDaemonInfo(stateDir);
  if (running && running.pid !== process.pid) {
    throw new FlotillaError(
      "FLOTILLA_E_DAEMON_RUNNING",
      `a daemon (pid ${running.pid}) already runs the fleet in ${stateDir}; use "flotilla status", or "flotilla down" first`,
    );
  }
  writeDaemonInfo(stateDir, {
    pid: process.pid,
    startTime: readProc(process.pid)?.startTime ?? 0,
    api: "",
    config: configFile,
    startedAt: Date.now(),
  });
}

export function writeDaemonInfo(stateDir: string, info: DaemonInfo): void {
  const file = join(stateDir, "daemon.json");
  writeFileSync(`${file}.tmp`, JSON.stringify(info, null, 2), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function removeDaemonInfo(stateDir: string): void {
  rmSync(join(stateDir, "daemon.json"), { force: true });
}
