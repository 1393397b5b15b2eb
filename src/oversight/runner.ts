/**
 * The oversight pass: runs every check over what happened since the last run, records the findings,
 * and hands them to `notify` (alerts, injection). It reads and reports; it never restarts, edits or pushes.
 */
import { join } from "node:path";
import type { FlotillaConfig } from "../config/schema.ts";
import type { Store } from "../ledger/store.ts";
import type { AgentStatus } from "../supervisor/agent-runner.ts";
import type { Check, CheckContext } from "./check.ts";
import type { Finding, FindingDraft } from "./finding.ts";
import {
  type FindingsStore,
  openFindingsStore,
  type RunRecord,
  type StoredFinding,
} from "./findings-store.ts";
import { draftPenalty } from "./penalty-draft.ts";

/** What one run did. */
export interface RunResult {
  run: RunRecord;
  /** Every finding reported this run, in its state after the run. */
  findings: StoredFinding[];
  durationMs: number;
}

export interface OversightOptions {
  config: () => FlotillaConfig;
  ledger: Store;
  status: () => AgentStatus[];
  stateDir: string;
  checks: Check[];
  /** Gets every finding reported this run that is still open or acknowledged; its failure never fails the run. */
  notify?: (open: Finding[], run: RunResult) => Promise<unknown>;
  /**
   * Records an accepted penalty (the constitution's addPenalty) and returns its id; with
   * `oversight.autoPenalty`, called once per critical finding that drafted one.
   */
  acceptPenalty?: (agent: string, draft: NonNullable<StoredFinding["penalty"]>) => number;
  /** The clock (ms since the epoch); tests pass their own. */
  now?: () => number;
  /** An open store to use instead of <stateDir>/oversight.db (closed by close() all the same). */
  store?: FindingsStore;
}

/** Longest close() waits for a pass in flight before it closes the store anyway (ms): a hung check must not hang shutdown. */
const CLOSE_WAIT_MS = 5_000;

/** Thrown in a run that `restart()` abandoned once it settles: its results are discarded. */
export class AbandonedRun extends Error {
  constructor() {
    super("this oversight run was abandoned by an oversight restart; its results were discarded");
    this.name = "AbandonedRun";
  }
}

/** The check name of a check's own failure is its own name; the key tells it from its findings. */
export const CHECK_ERROR_KEY = "check-error";

/** The finding a throwing check becomes. */
function checkFailed(check: string, err: unknown): FindingDraft {
  return {
    check,
    severity: "warning",
    agent: null,
    article: null,
    evidence: `the ${check} check failed: ${err instanceof Error ? err.message : String(err)}`,
    suggestion: `Fix what the message names; until then the ${check} check sees nothing (the other checks still run).`,
    key: CHECK_ERROR_KEY,
  };
}

export function createOversight(options: OversightOptions) {
  const now = options.now ?? Date.now;
  const store = options.store ?? openFindingsStore(join(options.stateDir, "oversight.db"));
  let running: Promise<RunResult> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let startedAt: number | null = null;
  /** When the scheduled run is due (real time, ms since the epoch), or null when none is scheduled. */
  let dueAt: number | null = null;
  let closed = false;
  /** Bumped by restart() and close(): a run of an older generation is abandoned when it next wakes. */
  let generation = 0;
  /** The stop-oversight drill: runs wait before they finish until restart() (or close()) releases them. */
  let frozen = false;
  let held: Array<() => void> = [];
  /** The id of the run started last (set before its first await). */
  let lastStarted: number | undefined;

  /** Resolves at once, or (frozen) when restart() or close() releases the run. */
  function hold(): Promise<void> {
    if (!frozen) return Promise.resolve();
    return new Promise((resolve) => held.push(resolve));
  }

  function releaseHeld(): void {
    const waiting = held;
    held = [];
    for (const resolve of waiting) resolve();
  }

  async function runChecks(gen: number): Promise<RunResult> {
    const current = () => {
      if (gen !== generation) throw new AbandonedRun();
    };
    const config = options.config();
    const startedAt = now();
    const runId = store.startRun(startedAt);
    lastStarted = runId;
    const last = store.lastRun();
    // The newest event id before the checks read: events after it belong to the next run.
    const lastEventId = options.ledger.query({ limit: 1 })[0]?.id ?? last?.lastEventId ?? 0;
    const context: CheckContext = {
      config,
      ledger: options.ledger,
      sinceId: last?.lastEventId ?? 0,
      lastRunAt: last?.finished ?? null,
      now: startedAt,
      status: options.status,
    };
    const counts: Record<string, number> = {};
    const errors: RunRecord["errors"] = [];
    const reported = new Map<string, StoredFinding>();
    const penaltyOf = (draft: FindingDraft) => draftPenalty(draft, config.constitution.articles);
    for (const check of options.checks) {
      let drafts: FindingDraft[];
      let failed = false;
      try {
        drafts = await check.run(context);
        current();
      } catch (err) {
        if (err instanceof AbandonedRun || gen !== generation) throw new AbandonedRun();
        failed = true;
        errors.push({ check: check.name, message: err instanceof Error ? err.message : String(err) });
        drafts = [checkFailed(check.name, err)];
      }
      counts[check.name] = failed ? 0 : drafts.length;
      for (const finding of store.report(runId, now(), drafts, penaltyOf)) reported.set(finding.id, finding);
      // Only a check that ran cleanly can say a finding is gone.
      if (!failed) store.resolveUnreported(check.name, runId, now());
    }
    store.resolveUnreported(STALLED_CHECK, runId, now());
    if (config.oversight.autoPenalty) autoPenalize([...reported.values()]);
    await hold();
    current();
    const run = store.finishRun(
      {
        id: runId,
        outcome: errors.length > 0 ? "partial" : "ok",
        counts,
        errors,
        findings: [...reported.keys()],
        lastEventId,
      },
      now(),
    );
    const findings = [...reported.keys()].map((id) => store.get(id) as StoredFinding);
    const result: RunResult = { run, findings, durationMs: (run.finished ?? startedAt) - startedAt };
    // Counts only: evidence may quote text that holds a secret.
    options.ledger.append({
      kind: "oversight.run",
      data: {
        run: run.id,
        outcome: run.outcome,
        durationMs: result.durationMs,
        counts,
        failedChecks: errors.map((e) => e.check),
        findings: findings.length,
        open: findings.filter((f) => f.state === "open").length,
      },
    });
    const live = findings.filter((f) => f.state === "open" || f.state === "acknowledged");
    if (options.notify && live.length > 0) {
      try {
        await options.notify(live, result);
      } catch (err) {
        options.ledger.append({
          kind: "oversight.notify_failed",
          data: { run: run.id, error: err instanceof Error ? err.name : "Error" },
        });
      }
    }
    return result;
  }

  /** Accepts the drafted penalty of each critical finding once (the store links it, so never twice). */
  function autoPenalize(findings: StoredFinding[]): void {
    if (!options.acceptPenalty) return;
    for (const finding of findings) {
      if (finding.severity !== "critical" || !finding.penalty || !finding.agent || finding.penaltyId !== null)
        continue;
      try {
        const id = options.acceptPenalty(finding.agent, finding.penalty);
        store.linkPenalty(finding.id, id);
        options.ledger.append({
          kind: "oversight.penalty_accepted",
          agent: finding.agent,
          data: { finding: finding.id, penalty: id, auto: true },
        });
      } catch (err) {
        options.ledger.append({
          kind: "oversight.penalty_failed",
          agent: finding.agent,
          data: { finding: finding.id, error: err instanceof Error ? err.message : String(err) },
        });
      }
    }
  }

  function schedule(): void {
    if (closed || !started) return;
    const every = options.config().oversight.every;
    dueAt = Date.now() + every;
    timer = setTimeout(tick, every);
    timer.unref();
  }

  async function tick(): Promise<void> {
    timer = undefined;
    dueAt = null;
    const gen = generation;
    try {
      if (options.config().oversight.enabled) await runOnce();
    } catch (err) {
      // A restart took this run over: it scheduled what comes next.
      if (gen !== generation) return;
      options.ledger.append({
        kind: "oversight.run_failed",
        data: { error: err instanceof Error ? err.message : String(err) },
      });
    }
    // The next run is scheduled once this one is over, so runs never overlap.
    if (gen === generation) schedule();
  }

  /** Runs one pass now; a pass already in flight is joined, not doubled. */
  function runOnce(): Promise<RunResult> {
    if (closed) return Promise.reject(new Error("oversight is closed"));
    if (running) return running;
    const run: Promise<RunResult> = runChecks(generation).finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  }

  /**
   * Leaves a stuck pass behind (its promise is not awaited; whatever it finds when it settles is
   * discarded), lifts a freeze and starts a fresh run now, which schedules the next as usual.
   */
  function restart(): { restarted: true; runId?: number } {
    if (closed) throw new Error("oversight is closed");
    const abandoned = running !== undefined;
    generation++;
    frozen = false;
    running = undefined;
    releaseHeld();
    if (timer) clearTimeout(timer);
    timer = undefined;
    dueAt = null;
    options.ledger.append({ kind: "oversight.restarted", data: { abandoned } });
    lastStarted = undefined;
    void tick();
    return lastStarted === undefined ? { restarted: true } : { restarted: true, runId: lastStarted };
  }

  /** The stop-oversight drill: runs stop finishing (the heartbeat goes stale) until restart(). */
  function freeze(): { frozen: true } {
    if (closed) throw new Error("oversight is closed");
    frozen = true;
    options.ledger.append({ kind: "oversight.frozen", data: {} });
    return { frozen: true };
  }

  return {
    runOnce,
    restart,
    freeze,
    /** Runs a pass every `oversight.every` (read again before each wait, so an apply's change counts). */
    start(): void {
      if (started) return;
      started = true;
      startedAt = now();
      schedule();
    },
    /** Restarts the wait with the config's current interval (after a config apply). */
    reschedule(): void {
      if (!timer) return;
      clearTimeout(timer);
      schedule();
    },
    store,
    /** When the next scheduled run is due (ms since the epoch), or null while one runs or before start(). */
    nextRunAt: (): number | null => dueAt,
    /** When start() was called (ms since the epoch), or null before: the heartbeat counts from here too. */
    startedAt: (): number | null => startedAt,
    /** Stops the schedule, waits (up to 5 s) for a pass in flight, closes the store. */
    async close(): Promise<void> {
      closed = true;
      generation++;
      releaseHeld();
      if (timer) clearTimeout(timer);
      timer = undefined;
      dueAt = null;
      if (running) {
        let wait: NodeJS.Timeout | undefined;
        await Promise.race([
          running.catch(() => undefined),
          new Promise((resolve) => {
            wait = setTimeout(resolve, CLOSE_WAIT_MS);
          }),
        ]);
        clearTimeout(wait);
      }
      store.close();
    },
  };
}

export type Oversight = ReturnType<typeof createOversight>;

/** The check name of the finding the stall watch raises. */
export const STALLED_CHECK = "oversight-stalled";
