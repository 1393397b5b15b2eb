/**
 * Runs one drill and measures it: inject, then poll the watchdog's own state (its incidents on the target)
 * and the drill's own check until the target is recovered, the timeout, or an abort (Ctrl-C); the
 * injection is always cleaned up. Times count from the injection.
 */
import { formatDuration } from "../../config/units.ts";
import { FlotillaError } from "../../errors.ts";
import { watchdogHolder } from "../lock.ts";
import type { Incident } from "../types.ts";
import type { Drill, DrillContext, DrillResult, Injection, Progress } from "./drill.ts";

/** What a drill reads of the watchdog's state (<stateDir>/watchdog.db): the state store's reader side. */
export interface IncidentReader {
  incidents(options?: { open?: boolean; limit?: number }): Incident[];
  lastRun(): { startedAt: number; finishedAt: number } | undefined;
}

export interface RunDrillOptions {
  /** Opens the watchdog's state; undefined when no watchdog ever ran here. */
  openReader(): (IncidentReader & { close(): void }) | undefined;
  signal?: AbortSignal;
  /** Time between polls (ms). */
  pollMs?: number;
}

const POLL_MS = 200; // ms between polls of the watchdog's state and the target
const INCIDENT_WINDOW = 200; // newest incidents read at each poll

/**
 * A watchdog must be watching: one holds the lock (a loop, perhaps waiting for its first run), or its last
 * run finished within two intervals plus a minute (a timer's --once runs hold no lock between runs).
 */
function requireWatchdog(
  ctx: DrillContext,
  reader: IncidentReader | undefined,
): asserts reader is IncidentReader {
  const every = ctx.config.watchdog.every;
  const last = reader?.lastRun();
  if (
    reader &&
    (watchdogHolder(ctx.config.stateDir) || (last && Date.now() - last.finishedAt <= 2 * every + 60_000))
  )
    return;
  throw new FlotillaError(
    "FLOTILLA_E_DRILL_REFUSED",
    `no watchdog watches ${ctx.config.stateDir} (none holds its lock, and none finished a run in the last two intervals of watchdog.every ${formatDuration(every)}${last ? `; the last ${formatDuration(Date.now() - last.finishedAt)} ago` : ""}), so nothing would heal the fleet; start it with "flotilla watchdog -c ${ctx.configFile}" first`,
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

export async function runDrill(
  drill: Drill,
  ctx: DrillContext,
  options: RunDrillOptions,
): Promise<DrillResult> {
  const { signal } = options;
  const armed = await drill.prepare(ctx);
  const reader = options.openReader();
  try {
    requireWatchdog(ctx, reader);
    return await measure(drill, ctx, await armed.inject(), reader, signal, options.pollMs);
  } finally {
    reader?.close();
  }
}

async function measure(
  drill: Drill,
  ctx: DrillContext,
  injection: Injection,
  reader: IncidentReader,
  signal: AbortSignal | undefined,
  pollMs = POLL_MS,
): Promise<DrillResult> {
  const { at, target } = injection;
  const deadline = at + ctx.options.timeoutMs;
  const runs = new Set<number>();
  let progress: Progress;
  let healthySince: number | undefined;
  let finished: boolean;
  try {
    for (;;) {
      const now = Date.now();
      const last = reader.lastRun();
      if (last && last.startedAt >= at) runs.add(last.startedAt);
      const incidents = reader
        .incidents({ limit: INCIDENT_WINDOW })
        .filter((i) => i.target.id === target.id && i.detectedAt >= at)
        .sort((a, b) => a.detectedAt - b.detectedAt);
      const healthy = await injection.healthy();
      healthySince = healthy ? (healthySince ?? now) : undefined;
      progress = { now, incidents, healthy, watchdogRuns: [...runs] };
      await injection.step?.(progress);
      finished = injection.done
        ? injection.done(progress)
        : healthy && incidents.length > 0 && incidents.every((i) => i.outcome === "recovered");
      if (finished || now >= deadline || signal?.aborted) break;
      await sleep(pollMs, signal);
    }
  } finally {
    await injection.cleanup();
  }
  const { incidents } = progress;
  const reasons: string[] = [];
  if (!finished)
    reasons.push(
      signal?.aborted
        ? "interrupted before the target recovered"
        : `not recovered within ${formatDuration(ctx.options.timeoutMs)} (--timeout)`,
    );
  const sum = (f: (i: Incident) => number) => incidents.reduce((total, i) => total + f(i), 0);
  // A restore of the last known good is an action too (recorded apart from the commands that ran).
  const restored = (i: Incident) => (i.restore && i.restore.outcome !== "refused" ? 1 : 0);
  const actions = sum((i) => i.ran.length + restored(i));
  const escalations = sum((i) => (i.escalatedAt === undefined ? 0 : 1));
  if (!drill.noActions && incidents.length === 0) reasons.push(`the watchdog never detected ${target.id}`);
  if (drill.noActions && actions > 0)
    reasons.push(`the watchdog took ${actions} actions on ${target.id}; it should take none`);
  if (escalations !== drill.escalations)
    reasons.push(
      `${escalations} escalations; a correct watchdog raises ${drill.escalations} for this failure`,
    );
  reasons.push(...((await injection.verdict?.(progress)) ?? []));
  const first = incidents[0];
  const recoveredAt = Math.max(healthySince ?? 0, ...incidents.map((i) => i.recoveredAt ?? 0));
  return {
    drill: drill.name,
    target: target.id,
    injectedAt: at,
    detectMs: first ? first.detectedAt - at : null,
    recoverMs: finished ? recoveredAt - at : null,
    incidents: incidents.map((i) => i.id),
    actions,
    refused: sum((i) => i.decisions.filter((d) => !d.allowed).length),
    modelCalls: sum((i) => i.modelCalls),
    escalations,
    timedOut: !finished,
    pass: reasons.length === 0,
    reasons,
  };
}

const seconds = (ms: number | null) => (ms === null ? "-" : `${(ms / 1000).toFixed(1)} s`);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** One line: the verdict, times, actions, model calls and escalations, and why it failed. */
export function verdictLine(result: DrillResult): string {
  const head = `${result.drill} ${result.target}: ${result.pass ? "PASS" : "FAIL"}`;
  const figures = [
    `detected in ${seconds(result.detectMs)}`,
    `recovered in ${seconds(result.recoverMs)}`,
    plural(result.actions, "action"),
    ...(result.refused > 0 ? [`${result.refused} refused`] : []),
    plural(result.modelCalls, "model call"),
    plural(result.escalations, "escalation"),
  ].join(", ");
  const incidents = result.incidents.length > 0 ? ` (incident ${result.incidents.join(", ")})` : "";
  const why = result.reasons.length > 0 ? `: ${result.reasons.join("; ")}` : "";
  return `${head}, ${figures}${incidents}${why}`;
}
