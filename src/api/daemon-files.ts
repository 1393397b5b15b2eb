/** The daemon's files in stateDir: the API token (0600), daemon.json (pid, API address) and the lock that keeps one daemon per state dir. */
import { randomBytes } from "node:crypto";
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

/** Reads the API token, creating a new random one (mode 0600) on first use. */
export function loadToken(stateDir: string): string {
  const file = join(stateDir, "token");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const token = randomBytes(24).toString("base64url");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
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
