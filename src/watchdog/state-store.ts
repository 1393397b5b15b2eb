/**
 * The watchdog's own SQLite file (<stateDir>/watchdog.db, WAL): its runs (the heartbeat status and oversight
 * read), recovery attempts per target (maxActionsPerHour), halts until acknowledged, cached diagnoses and
 * incidents. The watchdog writes it; `flotilla incidents`, status and oversight read it beside the writer.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type SQLOutputValue } from "node:sqlite";
import { openVersionedFile } from "../sqlite-file.ts";
import type { Diagnosis, DiagnosisCache, Incident } from "./types.ts";

export interface WatchdogRun {
  startedAt: number;
  finishedAt: number;
  /** Targets probed, and how many of them were confirmed down. */
  probed: number;
  down: number;
  /** Ids of the incidents this run opened or updated. */
  incidents: string[];
}

export interface WatchdogState {
  recordRun(run: WatchdogRun): void;
  lastRun(): WatchdogRun | undefined;
  /** Records one recovery attempt on the target. */
  recordAction(targetId: string, at: number): void;
  actionsSince(targetId: string, since: number): number;
  /** Stops acting on the target until the incident is acknowledged. */
  halt(targetId: string, incidentId: string, at: number): void;
  halted(targetId: string): { incidentId: string; at: number } | undefined;
  diagnoses: DiagnosisCache;
  /** Inserts the incident, or replaces the one with its id. */
  saveIncident(incident: Incident): void;
  incident(id: string): Incident | undefined;
  /** Newest first (by detection). `open`: not recovered and not acknowledged. */
  incidents(options?: { open?: boolean; limit?: number }): Incident[];
  /** Sets acknowledgedAt (once) and lifts the halt of the incident's target; undefined for an unknown id. */
  acknowledge(id: string, at: number): Incident | undefined;
  close(): void;
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY,
     started_at INTEGER NOT NULL,
     finished_at INTEGER NOT NULL,
     probed INTEGER NOT NULL,
     down INTEGER NOT NULL,
     incidents TEXT NOT NULL DEFAULT '[]'
   );
   CREATE TABLE actions (id INTEGER PRIMARY KEY, target TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX actions_target ON actions (target, at);
   CREATE TABLE halts (target TEXT PRIMARY KEY, incident_id TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE TABLE diagnoses (fingerprint TEXT PRIMARY KEY, at INTEGER NOT NULL, diagnosis TEXT NOT NULL);
   CREATE TABLE incidents (
     id TEXT PRIMARY KEY,
     target TEXT NOT NULL,
     detected_at INTEGER NOT NULL,
     open INTEGER NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX incidents_detected ON incidents (detected_at);`,
];

/** Runs and actions older than this are pruned as new ones are written (ms): a day covers every window read. */
const KEEP_MS = 24 * 3_600_000;

/** Open: nobody has closed it, neither a recovery nor a human's acknowledgement. */
export function isOpen(incident: Incident): boolean {
  return incident.outcome !== "recovered" && incident.acknowledgedAt === undefined;
}

function toRun(row: Record<string, SQLOutputValue>): WatchdogRun {
  return {
    startedAt: Number(row.started_at),
    finishedAt: Number(row.finished_at),
    probed: Number(row.probed),
    down: Number(row.down),
    incidents: JSON.parse(String(row.incidents)) as string[],
  };
}

const toIncident = (row: Record<string, SQLOutputValue>): Incident =>
  JSON.parse(String(row.body)) as Incident;

/** Opens (creating and migrating) <stateDir>/watchdog.db. */
export function openWatchdogState(stateDir: string): WatchdogState {
  const db = openVersionedFile(join(stateDir, "watchdog.db"), {
    what: "the watchdog's state",
    migrations: MIGRATIONS,
  });
  const q = {
    addRun: db.prepare(
      "INSERT INTO runs (started_at, finished_at, probed, down, incidents) VALUES (?, ?, ?, ?, ?)",
    ),
    pruneRuns: db.prepare("DELETE FROM runs WHERE finished_at < ? AND id < (SELECT MAX(id) FROM runs)"),
    lastRun: db.prepare("SELECT * FROM runs ORDER BY id DESC LIMIT 1"),
    addAction: db.prepare("INSERT INTO actions (target, at) VALUES (?, ?)"),
    pruneActions: db.prepare("DELETE FROM actions WHERE at < ?"),
    countActions: db.prepare("SELECT COUNT(*) AS n FROM actions WHERE target = ? AND at >= ?"),
    halt: db.prepare("INSERT OR REPLACE INTO halts (target, incident_id, at) VALUES (?, ?, ?)"),
    halted: db.prepare("SELECT incident_id, at FROM halts WHERE target = ?"),
    lift: db.prepare("DELETE FROM halts WHERE target = ?"),
    getDiagnosis: db.prepare("SELECT diagnosis FROM diagnoses WHERE fingerprint = ? AND at >= ?"),
    putDiagnosis: db.prepare(
      "INSERT OR REPLACE INTO diagnoses (fingerprint, at, diagnosis) VALUES (?, ?, ?)",
    ),
    saveIncident: db.prepare(
      "INSERT OR REPLACE INTO incidents (id, target, detected_at, open, body) VALUES (?, ?, ?, ?, ?)",
    ),
    incident: db.prepare("SELECT body FROM incidents WHERE id = ?"),
    all: db.prepare("SELECT body FROM incidents ORDER BY detected_at DESC, rowid DESC LIMIT ?"),
    open: db.prepare(
      "SELECT body FROM incidents WHERE open = 1 ORDER BY detected_at DESC, rowid DESC LIMIT ?",
    ),
  };

  function saveIncident(incident: Incident): void {
    q.saveIncident.run(
      incident.id,
      incident.target.id,
      incident.detectedAt,
      isOpen(incident) ? 1 : 0,
      JSON.stringify(incident),
    );
  }

  function incident(id: string): Incident | undefined {
    const row = q.incident.get(id);
    return row ? toIncident(row) : undefined;
  }

  return {
    recordRun(run) {
      q.addRun.run(run.startedAt, run.finishedAt, run.probed, run.down, JSON.stringify(run.incidents));
      q.pruneRuns.run(run.finishedAt - KEEP_MS);
    },
    lastRun() {
      const row = q.lastRun.get();
      return row ? toRun(row) : undefined;
    },
    recordAction(targetId, at) {
      q.addAction.run(targetId, at);
      q.pruneActions.run(at - KEEP_MS);
    },
    actionsSince(targetId, since) {
      return Number(q.countActions.get(targetId, since)?.n ?? 0);
    },
    halt(targetId, incidentId, at) {
      q.halt.run(targetId, incidentId, at);
    },
    halted(targetId) {
      const row = q.halted.get(targetId);
      return row ? { incidentId: String(row.incident_id), at: Number(row.at) } : undefined;
    },
    diagnoses: {
      get(fingerprint, notBefore) {
        const row = q.getDiagnosis.get(fingerprint, notBefore);
        return row ? (JSON.parse(String(row.diagnosis)) as Diagnosis) : undefined;
      },
      put(fingerprint, diagnosis, at) {
        q.putDiagnosis.run(fingerprint, at, JSON.stringify(diagnosis));
      },
    },
    saveIncident,
    incident,
    incidents(options = {}) {
      const limit = options.limit ?? 100;
      return (options.open ? q.open : q.all).all(limit).map(toIncident);
    },
    acknowledge(id, at) {
      const found = incident(id);
      if (!found) return undefined;
      const acked = found.acknowledgedAt === undefined ? { ...found, acknowledgedAt: at } : found;
      db.exec("BEGIN IMMEDIATE");
      try {
        saveIncident(acked);
        // A human has looked at this target: the watchdog may act on it again.
        q.lift.run(found.target.id);
        db.exec("COMMIT");
      } catch (err) {
        db.exec("ROLLBACK");
        throw err;
      }
      return acked;
    },
    close() {
      if (db.isOpen) db.close();
    },
  };
}

/** The watchdog's last run, read-only (for status and oversight); undefined without a file or a run. */
export function readWatchdogHeartbeat(stateDir: string): WatchdogRun | undefined {
  const path = join(stateDir, "watchdog.db");
  if (!existsSync(path)) return undefined;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    db.exec("PRAGMA busy_timeout = 2000");
    const row = db.prepare("SELECT * FROM runs ORDER BY id DESC LIMIT 1").get();
    return row ? toRun(row) : undefined;
  } catch {
    return undefined;
  } finally {
    if (db?.isOpen) db.close();
  }
}
