/**
 * The recovery ladder for one target confirmed down: the model's allowed actions, then the watchdog's own
 * restart, then the last known good config, then a human. Each rung is followed by a health check that
 * waits out the target's start grace; every step lands in the incident as it happens.
 */
import type { FlotillaConfig } from "../config/schema.ts";
import { secretEnvNames } from "../config/secrets.ts";
import { secretRedactor } from "./diagnose/redact.ts";
import { gatherEvidence } from "./diagnose/gather.ts";
import { diagnose } from "./diagnose/diagnose.ts";
import { judgeProposal, type PolicyContext } from "./policy/fix-policy.ts";
import { actionHiddenPaths, actionIsolation } from "./policy/run-action.ts";
import { runAllowed } from "./policy/run-allowed.ts";
import { restartTarget } from "./recover/restart.ts";
import { restoreLastKnownGood } from "./recover/restore.ts";
import { escalate } from "./recover/escalate.ts";
import { fleetStoppedOnPurpose } from "./embedded.ts";
import { type ProbeContext, probeTarget } from "./probes.ts";
import type { WatchdogState } from "./state-store.ts";
import type { Incident, ProbeResult, Target } from "./types.ts";

export interface RecoveryDeps {
  config: FlotillaConfig;
  configFile: string;
  env: NodeJS.ProcessEnv;
  state: WatchdogState;
  probe: ProbeContext;
  policy: PolicyContext;
  /** Saves the incident (database, Markdown, append-only file, ledger). */
  save: (incident: Incident) => void;
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** The diagnosis step (the model behind it is the one simulated part in tests): `diagnose` by default. */
  diagnose?: typeof diagnose;
}

/** How long a target may take to answer again after a rung: its own start grace. */
function recoveryGrace(target: Target, config: FlotillaConfig): number {
  const w = config.watchdog;
  switch (target.kind) {
    case "daemon":
      return w.daemonGrace;
    case "agent": {
      const agent = config.agents.find((a) => a.name === target.name);
      return Math.max(agent?.health.grace ?? 0, w.probeSpacing * 2);
    }
    case "gateway":
      return 30_000;
    case "oversight":
      return Math.max(2 * config.oversight.every, w.probeSpacing * 2);
    default:
      return w.probeSpacing * 2;
  }
}

/** Polls the target until it answers or its grace ends; true when it is healthy again. */
export async function waitHealthy(target: Target, deps: RecoveryDeps): Promise<boolean> {
  const w = deps.config.watchdog;
  const deadline = deps.now() + recoveryGrace(target, deps.config);
  for (;;) {
    const result: ProbeResult = await probeTarget(target, deps.probe, w.probeTimeout);
    if (result.state === "healthy" || result.state === "slow") return true;
    if (deps.now() >= deadline) return false;
    await deps.sleep(Math.min(w.probeSpacing, Math.max(0, deadline - deps.now())));
  }
}

/** Besides PATH, HOME and LANG an action gets the user's service bus (systemctl --user) and the fleet's secret values (a restore hands them to the daemon, as `flotilla restore` from a shell does). */
function actionEnv(config: FlotillaConfig, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const names = ["XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", ...secretEnvNames(config)];
  return Object.fromEntries(names.filter((n) => env[n] !== undefined).map((n) => [n, env[n]]));
}

/** Restarting cannot help these: a broken config file, a provider that fails every request. */
const NOT_RESTARTABLE = new Set(["config", "provider"]);

async function modelRung(incident: Incident, deps: RecoveryDeps): Promise<boolean> {
  const { target } = incident;
  const redact = secretRedactor(deps.config, deps.env);
  const evidence = gatherEvidence(
    target,
    { config: deps.config, configFile: deps.configFile, logLines: deps.config.watchdog.logLines },
    redact,
  );
  const { result, modelCalls } = await (deps.diagnose ?? diagnose)(target, incident.seen, evidence, {
    config: deps.config,
    env: deps.env,
    cache: deps.state.diagnoses,
    now: deps.now(),
  });
  incident.modelCalls += modelCalls;
  if ("unavailable" in result) {
    incident.noDiagnosis = result.unavailable;
    deps.save(incident);
    return false;
  }
  incident.diagnosis = result;
  incident.proposed = result.actions;
  incident.decisions = judgeProposal(result.actions, deps.policy);
  deps.save(incident);
  if (!incident.decisions.some((d) => d.allowed)) return false;
  const runs = await runAllowed(incident.decisions, deps.policy, {
    timeoutMs: deps.config.watchdog.actionTimeout,
    isolation: actionIsolation(deps.config),
    stateDir: deps.config.stateDir,
    configFile: deps.configFile,
    env: actionEnv(deps.config, deps.env),
    redact,
    hide: actionHiddenPaths(deps.config, deps.configFile),
  });
  const allowed = incident.decisions.filter((d) => d.allowed);
  // Record each argv as the policy allowed it (the model's words), not the install paths it ran under.
  runs.forEach((run, index) => incident.ran.push({ ...run, argv: allowed[index]?.argv ?? run.argv }));
  deps.save(incident);
  return waitHealthy(target, deps);
}

async function restartRung(incident: Incident, deps: RecoveryDeps): Promise<boolean> {
  if (NOT_RESTARTABLE.has(incident.target.kind)) return false;
  const run = await restartTarget(incident.target, {
    config: deps.config,
    configFile: deps.configFile,
    timeoutMs: deps.config.watchdog.actionTimeout,
    env: deps.env,
  });
  if (!run) return false;
  incident.ran.push(run);
  deps.save(incident);
  return waitHealthy(incident.target, deps);
}

async function restoreRung(incident: Incident, deps: RecoveryDeps): Promise<boolean> {
  if (incident.target.kind === "provider") return false;
  const record = await restoreLastKnownGood({
    config: deps.config,
    configFile: deps.configFile,
    timeoutMs: deps.config.watchdog.actionTimeout,
    env: deps.env,
  });
  incident.restore = record;
  deps.save(incident);
  if (record.outcome !== "applied") return false;
  if (await waitHealthy(incident.target, deps)) return true;
  // The restored config did not restart this target (its settings may not have changed): restart it now.
  return restartRung(incident, deps);
}

/** Runs the ladder; returns the incident, recovered or escalated. */
export async function recover(incident: Incident, deps: RecoveryDeps): Promise<Incident> {
  const rungs: Array<[string, (i: Incident, d: RecoveryDeps) => Promise<boolean>]> = [
    ["model", modelRung],
    ["restart", restartRung],
    ["restore", restoreRung],
  ];
  // Nothing the watchdog runs can bring a provider back: no model call, straight to a human.
  const ladder = incident.target.kind === "provider" ? [] : rungs;
  for (const [name, rung] of ladder) {
    // `flotilla down` meanwhile: the operator's word wins; the incident is closed as theirs.
    if (fleetStoppedOnPurpose(deps.config.stateDir)) {
      incident.acknowledgedAt = deps.now();
      incident.notes.push(
        `the fleet was stopped with flotilla down before the ${name} step: nothing more done`,
      );
      deps.save(incident);
      return incident;
    }
    let healthy = false;
    try {
      healthy = await rung(incident, deps);
    } catch (err) {
      incident.notes.push(`${name}: ${(err as Error).message}`);
      deps.save(incident);
    }
    if (healthy) {
      incident.outcome = "recovered";
      incident.recoveredAt = deps.now();
      incident.timeToRecoverMs = incident.recoveredAt - incident.detectedAt;
      incident.notes.push(`recovered by the ${name} step`);
      deps.save(incident);
      deps.log(`${incident.target.id}: recovered by the ${name} step (incident ${incident.id})`);
      return incident;
    }
  }
  await escalateOnce(incident, deps, "nothing the watchdog may run brought it back");
  return incident;
}

/** Sends "human needed" once for this incident, and records it. */
export async function escalateOnce(incident: Incident, deps: RecoveryDeps, why: string): Promise<void> {
  if (incident.escalatedAt !== undefined) return;
  incident.outcome = "escalated";
  incident.escalatedAt = deps.now();
  incident.notes.push(`escalated: ${why}`);
  const sent = await escalate(incident, {
    config: deps.config,
    env: deps.env,
    stateDir: deps.config.stateDir,
  });
  if (sent.delivered.length > 0) incident.notes.push(`escalation sent to ${sent.delivered.join(", ")}`);
  if (sent.failed.length > 0) incident.notes.push(`escalation failed on ${sent.failed.join(", ")}`);
  deps.save(incident);
  deps.log(`${incident.target.id}: human needed (${why}); incident ${incident.id}`);
}

/** Tells the alert channels what the watchdog saw and does (a warning, not a call for a human), and records it. */
export async function notify(incident: Incident, deps: RecoveryDeps, line: string): Promise<void> {
  const ctx = { config: deps.config, env: deps.env, stateDir: deps.config.stateDir };
  const sent = await escalate(incident, ctx, line);
  incident.notes.push(
    sent.delivered.length > 0
      ? `alert sent to ${sent.delivered.join(", ")}: ${line}`
      : `alert (no channel took it): ${line}`,
  );
  deps.save(incident);
}
