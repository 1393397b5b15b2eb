/**
 * One watchdog run: probe every target, confirm the failing ones by probing again (spaced, the last with a
 * longer timeout), and walk the recovery ladder for each target confirmed down — the daemon first (it brings
 * the rest back), then the config file, then the others. Targets already escalated wait for a human or heal
 * on their own; a target that used up its actions this hour escalates once and waits to be acknowledged.
 */
import type { LoadedConfig } from "../config/load.ts";
import { confirmDown, probeTarget, type ProbeContext } from "./probes.ts";
import { watchTargets } from "./targets.ts";
import type { WatchdogRun, WatchdogState } from "./state-store.ts";
import { incidentId, openLedgerForIncidents, writeIncident } from "./incident-log.ts";
import { policyContext } from "./policy/policy-context.ts";
import { fleetStoppedOnPurpose } from "./embedded.ts";
import { escalateOnce, notify, recover, type RecoveryDeps } from "./recovery.ts";
import type { Incident, ProbeResult, Target } from "./types.ts";

const HOUR = 3_600_000;

export interface RunDeps {
  loaded: LoadedConfig;
  env: NodeJS.ProcessEnv;
  state: WatchdogState;
  log: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface RunSummary extends WatchdogRun {
  probes: ProbeResult[];
}

const sleeper = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Recovery order: the daemon brings every other process back, the config decides what they run. */
const ORDER: Record<Target["kind"], number> = {
  daemon: 0,
  config: 1,
  gateway: 2,
  agent: 3,
  oversight: 4,
  provider: 5,
};

export function newIncident(
  target: Target,
  seen: ProbeResult[],
  now: number,
  state: WatchdogState,
): Incident {
  const firstSeenAt = seen[0]?.at ?? now;
  return {
    id: incidentId(target, now, (id) => state.incident(id) !== undefined),
    target,
    firstSeenAt,
    detectedAt: now,
    seen,
    proposed: [],
    decisions: [],
    ran: [],
    outcome: "open",
    timeToDetectMs: now - firstSeenAt,
    modelCalls: 0,
    notes: [],
  };
}

/** Open incidents by target id (not recovered, not acknowledged). */
function openByTarget(state: WatchdogState): Map<string, Incident> {
  const open = new Map<string, Incident>();
  for (const incident of state.incidents({ open: true })) {
    if (!open.has(incident.target.id)) open.set(incident.target.id, incident);
  }
  return open;
}

export async function runOnce(deps: RunDeps): Promise<RunSummary> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? sleeper;
  const { config, file } = deps.loaded;
  const w = config.watchdog;
  const startedAt = now();
  const probe: ProbeContext = { config, configFile: file, now };
  const ledger = openLedgerForIncidents(config.stateDir);
  const save = (incident: Incident) => {
    deps.state.saveIncident(incident);
    const written = writeIncident(config.stateDir, incident, ledger);
    for (const failed of written.failed) deps.log(`incident ${incident.id}: could not write ${failed}`);
  };
  const recoveryDeps: RecoveryDeps = {
    config,
    configFile: file,
    env: deps.env,
    state: deps.state,
    probe,
    policy: policyContext(config, file),
    save,
    log: deps.log,
    sleep,
    now,
  };
  try {
    if (fleetStoppedOnPurpose(config.stateDir)) {
      deps.log("the fleet was stopped with flotilla down: nothing to watch");
      const run = { startedAt, finishedAt: now(), probed: 0, down: 0, incidents: [] };
      deps.state.recordRun(run);
      return { ...run, probes: [] };
    }
    const targets = watchTargets(config).sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
    const first = await Promise.all(targets.map((t) => probeTarget(t, probe, w.probeTimeout)));
    const open = openByTarget(deps.state);
    // Healthy again: an open incident (escalated, or left open by an interrupted run) is resolved.
    for (const result of first) {
      const incident = open.get(result.target.id);
      if (!incident || result.state === "down") continue;
      incident.outcome = "recovered";
      incident.recoveredAt = now();
      incident.timeToRecoverMs = incident.recoveredAt - incident.detectedAt;
      incident.notes.push(`${result.target.id} answers again (${result.state}): resolved`);
      save(incident);
      open.delete(result.target.id);
    }
    const failing = first.filter((r) => r.state === "down");
    const confirmed = await Promise.all(
      failing.map(async (result) => ({
        target: result.target,
        ...(await confirmDown(result.target, probe, result, {
          failures: w.failuresBeforeAction,
          spacingMs: w.probeSpacing,
          slowTimeoutMs: w.slowTimeout,
          sleep,
        })),
      })),
    );
    const incidents: string[] = [];
    const down = confirmed.filter((c) => c.down);
    const daemonDown = down.some((c) => c.target.kind === "daemon");
    for (const { target, seen } of down) {
      // While the daemon is down its children's state is unknown: healing the daemon brings them back.
      if (daemonDown && target.kind !== "daemon" && target.kind !== "config") continue;
      const handled = await act(target, seen, open.get(target.id), recoveryDeps);
      if (handled) incidents.push(handled);
    }
    const run = { startedAt, finishedAt: now(), probed: first.length, down: down.length, incidents };
    deps.state.recordRun(run);
    return { ...run, probes: first };
  } finally {
    ledger?.close();
  }
}

/** Acts on one target confirmed down; returns the incident's id, or undefined when it waits for a human. */
async function act(
  target: Target,
  seen: ProbeResult[],
  open: Incident | undefined,
  deps: RecoveryDeps,
): Promise<string | undefined> {
  const { state, now } = deps;
  if (state.halted(target.id)) return undefined;
  if (open?.escalatedAt !== undefined) return undefined;
  const incident = open ?? newIncident(target, seen, now(), state);
  if (open) open.seen.push(...seen);
  // The budget counts the last hour, or since a human last acknowledged an incident of this target.
  const acknowledged = state
    .incidents({ limit: 100 })
    .filter((i) => i.target.id === target.id && i.acknowledgedAt !== undefined)
    .map((i) => i.acknowledgedAt ?? 0);
  const since = Math.max(now() - HOUR, ...acknowledged);
  if (state.actionsSince(target.id, since) >= deps.config.watchdog.maxActionsPerHour) {
    incident.notes.push(
      `${deps.config.watchdog.maxActionsPerHour} recoveries within the hour (watchdog.maxActionsPerHour): no more until acknowledged`,
    );
    state.halt(target.id, incident.id, now());
    await escalateOnce(incident, deps, "it keeps failing after recovery");
    return incident.id;
  }
  state.recordAction(target.id, now());
  deps.save(incident);
  const detail = seen.at(-1)?.detail ?? "no answer";
  deps.log(`${target.id}: down (${detail}); incident ${incident.id}`);
  // Who watches oversight: a stale heartbeat is told to the channels at once, whatever the ladder then does.
  if (target.kind === "oversight")
    await notify(incident, deps, `oversight is stalled (${detail}); the watchdog restarts it`);
  await recover(incident, deps);
  return incident.id;
}
