/** The watchdog's line in `flotilla status`: its last run, read from its own state (no daemon needed). */
import type { WatchdogConfig } from "../config/schema.ts";
import { formatDuration } from "../config/units.ts";
import { readWatchdogHeartbeat } from "../watchdog/state-store.ts";

export interface WatchdogHeartbeat {
  enabled: boolean;
  every: number;
  lastRun: { finishedAt: number; probed: number; down: number; incidents: string[] } | null;
  /** No run finished within two intervals. */
  stale: boolean;
}

export function watchdogHeartbeat(
  stateDir: string,
  watchdog: WatchdogConfig,
  now: number,
): WatchdogHeartbeat {
  const last = watchdog.enabled ? readWatchdogHeartbeat(stateDir) : undefined;
  const lastRun = last
    ? { finishedAt: last.finishedAt, probed: last.probed, down: last.down, incidents: last.incidents }
    : null;
  const stale = watchdog.enabled && lastRun !== null && now - lastRun.finishedAt > 2 * watchdog.every;
  return { enabled: watchdog.enabled, every: watchdog.every, lastRun, stale };
}

export function watchdogLine(h: WatchdogHeartbeat, now: number, colour: boolean): string {
  if (!h.enabled) return "watchdog: off (watchdog.enabled is false)";
  const last = h.lastRun
    ? `last run ${formatDuration(Math.max(0, now - h.lastRun.finishedAt))} ago, ${h.lastRun.probed} targets, ${h.lastRun.down} down`
    : `no run yet (every ${formatDuration(h.every)})`;
  const text = `watchdog: ${last}${h.stale ? ` — STALE: no run finished in two intervals (${formatDuration(2 * h.every)})` : ""}`;
  return h.stale && colour ? `\x1b[31m${text}\x1b[0m` : text;
}
