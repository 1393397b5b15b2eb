/**
 * The embedded watchdog: `flotilla up` starts `flotilla watchdog` as a process of its own session, outside the
 * daemon's tree, so a daemon crash (or kill -9) leaves it running; `flotilla down` stops it first and leaves
 * a marker that tells any watchdog (a systemd timer's too) that the fleet is down on purpose.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadedConfig } from "../config/load.ts";
import { isAlive, signal } from "../supervisor/process-tree.ts";
import { watchdogHolder } from "./lock.ts";

const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));
const STOP_GRACE_MS = 5000;

function stoppedMarker(stateDir: string): string {
  return join(stateDir, "run", "stopped");
}

/** `flotilla down` was run: watchdogs leave the fleet alone until the next `flotilla up`. */
export function markStoppedOnPurpose(stateDir: string): void {
  mkdirSync(join(stateDir, "run"), { recursive: true, mode: 0o700 });
  writeFileSync(stoppedMarker(stateDir), `${new Date().toISOString()}\n`, { mode: 0o600 });
}

/** The operator stopped the fleet on purpose (`flotilla down`): nothing is down, nothing to heal. */
export function fleetStoppedOnPurpose(stateDir: string): boolean {
  return existsSync(stoppedMarker(stateDir));
}

export function clearStoppedMarker(stateDir: string): void {
  rmSync(stoppedMarker(stateDir), { force: true });
}

/**
 * Starts the watchdog detached unless the config says otherwise or one already watches this state dir.
 * Its environment is the daemon's (no secret values): the values the config's references name reach it on
 * its stdin. Returns its pid, or undefined when none was started.
 */
export function startEmbeddedWatchdog(
  loaded: LoadedConfig,
  env: NodeJS.ProcessEnv,
  secrets: Record<string, string>,
  proxy: Record<string, string> = {},
): number | undefined {
  const { watchdog, stateDir } = loaded.config;
  if (!watchdog.enabled || !watchdog.embedded || watchdogHolder(stateDir)) return undefined;
  const out = openSync(join(stateDir, "watchdog.log"), "a", 0o600);
  const child = spawn(
    process.execPath,
    [BIN, "watchdog", "--wait-first", "--secrets-stdin", "--config", loaded.file, "--state-dir", stateDir],
    { detached: true, stdio: ["pipe", out, out], env },
  );
  closeSync(out);
  child.stdin?.end(JSON.stringify({ secrets, proxy }));
  child.unref();
  return child.pid;
}

/** Stops the watchdog that holds this state dir's lock (SIGTERM, then SIGKILL); returns its pid. */
export async function stopWatchdog(stateDir: string): Promise<number | undefined> {
  const holder = watchdogHolder(stateDir);
  if (!holder) return undefined;
  signal(holder.pid, "SIGTERM");
  const deadline = Date.now() + STOP_GRACE_MS;
  while (isAlive(holder.pid, holder.startTime) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  if (isAlive(holder.pid, holder.startTime)) signal(holder.pid, "SIGKILL");
  return holder.pid;
}
