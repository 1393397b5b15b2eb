/**
 * The daemon's side of `flotilla config apply`: journal, write, reconcile the fleet, check health, and
 * commit or roll back on its own. The CLI has already validated the config and taken a backup; this
 * module never loads the schema or YAML libraries.
 */
import { existsSync, readFileSync } from "node:fs";
import { FlotillaError } from "../errors.ts";
import type { FleetWiring } from "../fleet/fleet-wiring.ts";
import type { Store } from "../ledger/store.ts";
import type { Supervisor } from "../supervisor/supervisor.ts";
import { clearJournal, type JournalFile, writeJournal, writeSide } from "./apply-journal.ts";
import { type GateFailure, type GateProgress, healthGate } from "./health-gate.ts";
import type { LoadedConfig } from "../config/load.ts";
import { computePlan, type FleetSpec, fixedSectionProblem, fleetOf, type Plan, planIsEmpty } from "./plan.ts";

/** What the CLI posts to /v1/config/apply. */
export interface ApplyRequest {
  loaded: LoadedConfig;
  wiring: FleetWiring;
  /** The new config's text, written to the live config file. */
  text: string;
  /** "apply FILE" or "restore ID". */
  source: string;
  backupId: string | null;
  /** Other files the change writes (a restore's constitution). */
  files?: Array<{ path: string; content: string }>;
}

export interface ApplyResult {
  id: string;
  outcome: "applied" | "rolled_back" | "unchanged";
  plan: Plan;
  failed: GateFailure[];
  /** After a failed check: what was undone, and whether the previous config passed its check again. */
  rollback?: { plan: Plan; healthy: boolean; failed: GateFailure[] };
}

/** An apply's health check in progress, for `GET /v1/config/progress` (null when none runs). */
export interface ApplyProgress extends GateProgress {
  id: string;
  phase: "checking" | "rolling_back";
}

/** How many of a failed agent's last log lines an apply result carries. */
const FAILURE_LOG_LINES = 20;

/** The config the daemon runs now. */
export interface RunningConfig {
  loaded: LoadedConfig;
  wiring: FleetWiring;
  text: string;
}

export interface MigratorDeps {
  supervisor: Supervisor;
  store: Store;
  running: RunningConfig;
  /** Told after a commit (the drift watch and last-known-good tracker follow the new config). */
  onCommitted?: (running: RunningConfig) => void;
}

function specOf(running: RunningConfig): FleetSpec {
  return { config: running.loaded.config, wiring: running.wiring };
}

export function createMigrator(deps: MigratorDeps) {
  const { supervisor, store } = deps;
  let running = deps.running;
  let busy = false;
  let inflight: Promise<void> = Promise.resolve();
  let progress: ApplyProgress | null = null;
  const abort = new AbortController();
  const stateDir = running.loaded.config.stateDir;

  const event = (kind: string, data: Record<string, unknown>) => store.append({ kind, data });

  /** Moves the supervised fleet from one spec to another along a plan. */
  async function reconcile(plan: Plan, target: FleetSpec, id: string): Promise<void> {
    supervisor.reconfigure(target.config, target.wiring.agentEnv, target.wiring.secrets ?? {});
    const specs = new Map(fleetOf(target).map((agent) => [agent.name, agent]));
    for (const name of plan.remove) {
      await supervisor.remove(name);
      event("config.agent_stopped", { id, agent: name });
    }
    for (const change of plan.restart) {
      const spec = specs.get(change.name);
      if (!spec) continue;
      await supervisor.replace(spec);
      event("config.agent_restarted", { id, agent: change.name, fields: change.fields });
    }
    for (const name of plan.add) {
      const spec = specs.get(name);
      if (!spec) continue;
      supervisor.add(spec);
      event("config.agent_started", { id, agent: name });
    }
  }

  /**
   * The way back to `previous`, from what the supervisor actually runs (a failed reconcile may have
   * stopped halfway): agents it lacks are added, extra ones removed, and any whose spec differs or that
   * the forward plan restarted (env and wiring are not in the spec) are restarted.
   */
  function planBack(forward: Plan, previous: FleetSpec): Plan {
    const back: Plan = { add: [], remove: [], restart: [], keep: [], settings: forward.settings };
    const wanted = new Map(fleetOf(previous).map((agent) => [agent.name, agent]));
    for (const { name } of supervisor.status()) if (!wanted.has(name)) back.remove.push(name);
    for (const [name, spec] of wanted) {
      const current = supervisor.spec(name);
      const restarted = forward.restart.find((c) => c.name === name);
      if (!current) back.add.push(name);
      else if (restarted || JSON.stringify(current) !== JSON.stringify(spec))
        back.restart.push({ name, fields: restarted?.fields ?? ["(rollback)"] });
      else back.keep.push(name);
    }
    return back;
  }

  /** Reconciles, then gates; an error on the way counts as a failed check (so it is rolled back). */
  async function attempt(
    change: () => Promise<void>,
    check: () => Promise<GateFailure[]>,
  ): Promise<GateFailure[]> {
    try {
      await change();
      return await check();
    } catch (err) {
      return [{ name: "(apply)", state: "error", reason: (err as Error).message }];
    }
  }

  /** Adds each failed agent's last log lines, read now (a rollback may remove or replace it next). */
  function withLogs(failed: GateFailure[]): GateFailure[] {
    return failed.map((f) => {
      if (!supervisor.spec(f.name)) return f;
      const logs = supervisor
        .tail(f.name, FAILURE_LOG_LINES)
        .map((l) => (l.stream === "flotilla" ? `[flotilla] ${l.text}` : l.text));
      return { ...f, logs };
    });
  }

  async function gate(
    plan: Plan,
    target: FleetSpec,
    id: string,
    phase: ApplyProgress["phase"],
  ): Promise<GateFailure[]> {
    const changed = new Set([...plan.add, ...plan.restart.map((c) => c.name)]);
    const names = fleetOf(target)
      .filter((a) => a.autostart && changed.has(a.name))
      .map((a) => a.name);
    const { healthTimeout, healthyFor } = target.config.migrations;
    try {
      const failed = await healthGate({
        names,
        status: (name) => supervisor.agentStatus(name),
        timeout: healthTimeout,
        healthyFor,
        signal: abort.signal,
        onProgress: (now) => {
          progress = { id, phase, ...now };
        },
      });
      return withLogs(failed);
    } finally {
      progress = null;
    }
  }

  function checkFixed(next: LoadedConfig): void {
    const problem = fixedSectionProblem(running.loaded.config, next.config);
    if (problem) throw new FlotillaError("FLOTILLA_E_CONFIG_INVALID", problem);
  }

  async function preflight(plan: Plan, target: FleetSpec): Promise<void> {
    const old = new Map(fleetOf(specOf(running)).map((agent) => [agent.name, agent]));
    const freed = new Set<number>();
    for (const name of [...plan.remove, ...plan.restart.map((c) => c.name)]) {
      const port = old.get(name)?.port;
      if (port !== undefined) freed.add(port);
    }
    const incoming = new Set([...plan.add, ...plan.restart.map((c) => c.name)]);
    const problems = await supervisor.check(
      fleetOf(target).filter((a) => incoming.has(a.name)),
      freed,
      { config: target.config, injectedEnv: target.wiring.agentEnv, secretEnv: target.wiring.secrets ?? {} },
    );
    if (problems.length > 0) {
      throw new FlotillaError("FLOTILLA_E_PREFLIGHT", `${problems.join("; ")}; nothing was changed`);
    }
  }

  function journalFiles(request: ApplyRequest): JournalFile[] {
    const current = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : null);
    return [
      { path: running.loaded.file, before: running.text, after: request.text },
      ...(request.files ?? []).map((f) => ({ path: f.path, before: current(f.path), after: f.content })),
    ];
  }

  async function run(request: ApplyRequest): Promise<ApplyResult> {
    const id = `apply-${Date.now().toString(36)}`;
    const target: FleetSpec = { config: request.loaded.config, wiring: request.wiring };
    checkFixed(request.loaded);
    const plan = computePlan(specOf(running), target);
    const files = journalFiles(request);
    // The live file may differ from what runs (hand-edited, or corrupt): then it is written even when
    // the fleet itself does not change (a restore over a broken file while the daemon runs).
    const onDisk = existsSync(running.loaded.file) ? readFileSync(running.loaded.file, "utf8") : null;
    if (planIsEmpty(plan) && files.every((f) => f.before === f.after) && onDisk === request.text) {
      return { id, outcome: "unchanged", plan, failed: [] };
    }
    await preflight(plan, target);
    const journal = {
      id,
      phase: "applying" as const,
      startedAt: Date.now(),
      source: request.source,
      backupId: request.backupId,
      files,
    };
    writeJournal(stateDir, journal);
    event("config.apply_started", { id, source: request.source, backupId: request.backupId, plan });
    writeSide(stateDir, files, "after");
    event("config.files_written", { id, files: files.map((f) => f.path) });
    const failed = await attempt(
      () => reconcile(plan, target, id),
      () => gate(plan, target, id, "checking"),
    );
    if (failed.length === 0) {
      writeJournal(stateDir, { ...journal, phase: "committed" });
      event("config.applied", { id, source: request.source, backupId: request.backupId });
      clearJournal(stateDir);
      running = { loaded: request.loaded, wiring: request.wiring, text: request.text };
      deps.onCommitted?.(running);
      return { id, outcome: "applied", plan, failed };
    }
    // The ledger keeps the verdicts; the log lines stay in the agents' logs.
    event("config.health_failed", { id, failed: failed.map(({ logs: _logs, ...verdict }) => verdict) });
    writeJournal(stateDir, { ...journal, phase: "rolling_back" });
    event("config.rolling_back", { id });
    writeSide(stateDir, files, "before");
    event("config.files_restored", { id, files: files.map((f) => f.path) });
    const back = planBack(plan, specOf(running));
    const stillFailing = await attempt(
      () => reconcile(back, specOf(running), id),
      () => gate(back, specOf(running), id, "rolling_back"),
    );
    event("config.rolled_back", {
      id,
      healthy: stillFailing.length === 0,
      ...(stillFailing.length > 0 ? { failed: stillFailing } : {}),
    });
    clearJournal(stateDir);
    return {
      id,
      outcome: "rolled_back",
      plan,
      failed,
      rollback: { plan: back, healthy: stillFailing.length === 0, failed: stillFailing },
    };
  }

  return {
    /** The config the fleet runs now. */
    running: (): RunningConfig => running,
    /** The health check of the apply in progress, if one runs now. */
    progress: (): ApplyProgress | null => progress,
    /** Applies a validated config; one apply at a time. */
    async apply(request: ApplyRequest): Promise<ApplyResult> {
      if (busy)
        throw new FlotillaError("FLOTILLA_E_APPLY_BUSY", "another config apply is in progress; wait for it", {
          status: 409,
        });
      busy = true;
      const done = run(request);
      inflight = done.then(
        () => undefined,
        () => undefined,
      );
      try {
        return await done;
      } finally {
        busy = false;
      }
    },
    /** Cuts short a health wait in progress (the daemon is closing) and waits for the apply to settle. */
    async close(): Promise<void> {
      abort.abort();
      await inflight;
    },
  };
}

export type Migrator = ReturnType<typeof createMigrator>;
