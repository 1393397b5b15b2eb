/**
 * Oversight's own SQLite file (<stateDir>/oversight.db, WAL, versioned migrations): runs and findings.
 * A finding is one incident: a later run reporting the same (check, agent, key) updates it, and a check
 * that ran cleanly without reporting it again resolves it.
 */
import type { SQLOutputValue } from "node:sqlite";
import { openVersionedFile } from "../sqlite-file.ts";
import type { Finding, FindingDraft, FindingState, Severity } from "./finding.ts";

/** A penalty drafted from a finding: what happened, why it matters, what changes. */
export interface PenaltyDraft {
  what: string;
  why: string;
  change: string;
}

/** A finding as stored: its drafted penalty (when it names an agent and an article), and the penalty accepted. */
export interface StoredFinding extends Finding {
  penalty: PenaltyDraft | null;
  penaltyId: number | null;
  /** Who acknowledged it ("operator" or the agent's name) and when, or null. */
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
}

/** One run of the pass. */
export interface RunRecord {
  id: number;
  started: number;
  finished: number | null;
  /** ok: every check ran; partial: at least one check threw (its error is a finding). */
  outcome: "ok" | "partial" | null;
  /** Findings each check reported this run. */
  counts: Record<string, number>;
  /** The checks that threw, with their messages. */
  errors: Array<{ check: string; message: string }>;
  /** Ids of the findings reported this run. */
  findings: string[];
  /** The highest ledger event id this run read up to (the next run's sinceId). */
  lastEventId: number;
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY,
     started INTEGER NOT NULL,
     finished INTEGER,
     outcome TEXT,
     counts TEXT NOT NULL DEFAULT '{}',
     errors TEXT NOT NULL DEFAULT '[]',
     findings TEXT NOT NULL DEFAULT '[]',
     last_event_id INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE findings (
     id INTEGER PRIMARY KEY,
     check_name TEXT NOT NULL,
     agent TEXT NOT NULL DEFAULT '',
     key TEXT NOT NULL,
     severity TEXT NOT NULL,
     article TEXT,
     evidence TEXT NOT NULL,
     suggestion TEXT NOT NULL,
     state TEXT NOT NULL,
     run_id INTEGER NOT NULL,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     last_run INTEGER NOT NULL,
     penalty TEXT,
     penalty_id INTEGER,
     acked_by TEXT,
     acked_at INTEGER,
     resolved_at INTEGER
   );
   CREATE INDEX findings_live ON findings (check_name, agent, key, state);
   CREATE INDEX findings_state ON findings (state, id);`,
];

/** Longest evidence or suggestion kept (characters): a finding quotes, it does not copy. */
const MAX_TEXT = 2000;

export interface FindingsQuery {
  /** One state, or every state when omitted. */
  state?: FindingState;
  agent?: string;
  /** Newest first; default 200. */
  limit?: number;
}

/** Opens (creating and migrating) the findings store at path. */
export function openFindingsStore(path: string) {
  const db = openVersionedFile(path, { what: "the oversight store", migrations: MIGRATIONS });
  const statements = {
    startRun: db.prepare("INSERT INTO runs (started) VALUES (?)"),
    finishRun: db.prepare(
      "UPDATE runs SET finished = ?, outcome = ?, counts = ?, errors = ?, findings = ?, last_event_id = ? WHERE id = ?",
    ),
    lastFinished: db.prepare("SELECT * FROM runs WHERE finished IS NOT NULL ORDER BY id DESC LIMIT 1"),
    run: db.prepare("SELECT * FROM runs WHERE id = ?"),
    live: db.prepare(
      "SELECT * FROM findings WHERE check_name = ? AND agent = ? AND key = ? AND state IN ('open', 'acknowledged') ORDER BY id DESC LIMIT 1",
    ),
    insert: db.prepare(
      `INSERT INTO findings (check_name, agent, key, severity, article, evidence, suggestion, state, run_id,
         first_seen, last_seen, last_run, penalty) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)`,
    ),
    update: db.prepare(
      "UPDATE findings SET severity = ?, article = ?, evidence = ?, suggestion = ?, last_seen = ?, last_run = ?, penalty = ? WHERE id = ?",
    ),
    resolveStale: db.prepare(
      "UPDATE findings SET state = 'resolved', resolved_at = ? WHERE check_name = ? AND state IN ('open', 'acknowledged') AND last_run < ?",
    ),
    get: db.prepare("SELECT * FROM findings WHERE id = ?"),
    ack: db.prepare(
      "UPDATE findings SET state = 'acknowledged', acked_by = ?, acked_at = ? WHERE id = ? AND state = 'open'",
    ),
    setPenalty: db.prepare("UPDATE findings SET penalty_id = ? WHERE id = ? AND penalty_id IS NULL"),
    openCount: db.prepare("SELECT count(*) AS n FROM findings WHERE state = 'open'"),
  };

  function get(id: string): StoredFinding | undefined {
    if (!/^\d+$/.test(id)) return undefined;
    const row = statements.get.get(Number(id));
    return row ? toFinding(row) : undefined;
  }

  return {
    /** Records the start of a run; returns its id. */
    startRun(now: number): number {
      return Number(statements.startRun.run(now).lastInsertRowid);
    },
    /**
     * Records what one check reported in run `runId`: each draft updates the live finding with its
     * (check, agent, key) or opens a new one. Returns the findings, in the drafts' order.
     */
    report(
      runId: number,
      now: number,
      drafts: FindingDraft[],
      penaltyOf: (draft: FindingDraft) => PenaltyDraft | null,
    ): StoredFinding[] {
      const ids: number[] = [];
      db.exec("BEGIN IMMEDIATE");
      try {
        for (const draft of drafts) {
          const evidence = draft.evidence.slice(0, MAX_TEXT);
          const suggestion = draft.suggestion.slice(0, MAX_TEXT);
          const penalty = penaltyOf(draft);
          const penaltyText = penalty ? JSON.stringify(penalty) : null;
          const live = statements.live.get(draft.check, draft.agent ?? "", draft.key);
          if (live) {
            statements.update.run(
              draft.severity,
              draft.article,
              evidence,
              suggestion,
              now,
              runId,
              penaltyText,
              Number(live.id),
            );
            ids.push(Number(live.id));
          } else {
            const inserted = statements.insert.run(
              draft.check,
              draft.agent ?? "",
              draft.key,
              draft.severity,
              draft.article,
              evidence,
              suggestion,
              runId,
              now,
              now,
              runId,
              penaltyText,
            );
            ids.push(Number(inserted.lastInsertRowid));
          }
        }
        db.exec("COMMIT");
      } catch (err) {
        db.exec("ROLLBACK");
        throw err;
      }
      return ids.map((id) => get(String(id)) as StoredFinding);
    },
    /** Resolves the live findings of `check` that run `runId` did not report (call only when the check ran cleanly). */
    resolveUnreported(check: string, runId: number, now: number): number {
      return Number(statements.resolveStale.run(now, check, runId).changes);
    },
    finishRun(
      run: Omit<RunRecord, "started" | "finished" | "outcome"> & { outcome: "ok" | "partial" },
      now: number,
    ) {
      statements.finishRun.run(
        now,
        run.outcome,
        JSON.stringify(run.counts),
        JSON.stringify(run.errors),
        JSON.stringify(run.findings),
        run.lastEventId,
        run.id,
      );
      return toRun(statements.run.get(run.id) as Record<string, SQLOutputValue>);
    },
    /** The heartbeat: the last finished run, or undefined before the first. */
    lastRun(): RunRecord | undefined {
      const row = statements.lastFinished.get();
      return row ? toRun(row) : undefined;
    },
    get,
    /** Findings newest first. */
    list(q: FindingsQuery = {}): StoredFinding[] {
      const where: string[] = [];
      const params: Array<string | number> = [];
      if (q.state) {
        where.push("state = ?");
        params.push(q.state);
      }
      if (q.agent !== undefined) {
        where.push("agent = ?");
        params.push(q.agent);
      }
      params.push(Math.max(0, Math.trunc(q.limit ?? 200)));
      const filter = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
      return db
        .prepare(`SELECT * FROM findings ${filter} ORDER BY last_seen DESC, id DESC LIMIT ?`)
        .all(...params)
        .map(toFinding);
    },
    /** Acknowledges an open finding; an acknowledged or resolved one is left as it is. */
    acknowledge(id: string, by: string, now: number): StoredFinding | undefined {
      if (!/^\d+$/.test(id)) return undefined;
      statements.ack.run(by, now, Number(id));
      return get(id);
    },
    /** Links the penalty accepted from this finding; false if one was already linked (once per finding). */
    linkPenalty(id: string, penaltyId: number): boolean {
      return Number(statements.setPenalty.run(penaltyId, Number(id)).changes) === 1;
    },
    openCount(): number {
      return Number(statements.openCount.get()?.n ?? 0);
    },
    close(): void {
      if (db.isOpen) db.close();
    },
  };
}

export type FindingsStore = ReturnType<typeof openFindingsStore>;

const numOrNull = (v: SQLOutputValue | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);
const strOrNull = (v: SQLOutputValue | undefined): string | null =>
  v === null || v === undefined ? null : String(v);

function toFinding(row: Record<string, SQLOutputValue>): StoredFinding {
  const agent = String(row.agent);
  return {
    id: String(row.id),
    check: String(row.check_name),
    severity: String(row.severity) as Severity,
    agent: agent === "" ? null : agent,
    article: strOrNull(row.article),
    evidence: String(row.evidence),
    suggestion: String(row.suggestion),
    key: String(row.key),
    state: String(row.state) as FindingState,
    runId: Number(row.run_id),
    firstSeen: Number(row.first_seen),
    lastSeen: Number(row.last_seen),
    penalty: row.penalty === null ? null : (JSON.parse(String(row.penalty)) as PenaltyDraft),
    penaltyId: numOrNull(row.penalty_id),
    acknowledgedBy: strOrNull(row.acked_by),
    acknowledgedAt: numOrNull(row.acked_at),
    resolvedAt: numOrNull(row.resolved_at),
  };
}

function toRun(row: Record<string, SQLOutputValue>): RunRecord {
  return {
    id: Number(row.id),
    started: Number(row.started),
    finished: numOrNull(row.finished),
    outcome: strOrNull(row.outcome) as RunRecord["outcome"],
    counts: JSON.parse(String(row.counts)) as Record<string, number>,
    errors: JSON.parse(String(row.errors)) as RunRecord["errors"],
    findings: JSON.parse(String(row.findings)) as string[],
    lastEventId: Number(row.last_event_id),
  };
}
