/** The SQLite ledger: node:sqlite in WAL mode, versioned migrations, appends queued and written in batches. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from "node:sqlite";
import { FlotillaError, isFlotillaError } from "../errors.ts";
import type { EventQuery, LedgerEvent, Store } from "./store.ts";

const DEFAULTS = {
  /** Longest a queued event waits before it is written (ms). */
  flushIntervalMs: 50,
  /** Queue length that triggers a write at once (events). */
  maxBatch: 500,
  /** How long a write waits for another connection's lock (ms). */
  busyTimeoutMs: 5000,
  /** Events a query returns when no limit is given. */
  queryLimit: 100,
};

/**
 * Schema migrations in order: MIGRATIONS[i] brings the file to schema version i + 1, which is kept
 * in `PRAGMA user_version`. Only ever append to this list; a shipped migration never changes.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     id INTEGER PRIMARY KEY,
     ts INTEGER NOT NULL,
     kind TEXT NOT NULL,
     agent TEXT,
     data TEXT NOT NULL DEFAULT '{}'
   );
   CREATE INDEX events_kind ON events (kind, id);
   CREATE INDEX events_agent ON events (agent, id);`,
];

/** The schema version this build writes and reads. */
export const LEDGER_SCHEMA_VERSION = MIGRATIONS.length;

/** SQLite result codes that mean the file is not a usable database. */
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

export interface SqliteStoreOptions {
  /** Longest a queued event waits before it is written (ms, default 50). */
  flushIntervalMs?: number;
  /** Write at once when this many events are queued (default 500). */
  maxBatch?: number;
  /** Where write errors go, since appends never throw (default: console.error, once). */
  onError?: (err: FlotillaError) => void;
  /** Writes the batches somewhere else (another thread); by default this connection writes them. */
  sink?: BatchSink;
}

/** Where batches go when they are not written on the caller's thread. */
export interface BatchSink {
  write(batch: QueuedEvent[]): void;
  /** Returns once every batch given to write() is in the file. */
  settle(): void;
  close(): void;
}

export interface QueuedEvent {
  ts: number;
  kind: string;
  agent: string | null;
  data: string;
}

/** Opens the ledger at path, creating its directory and the file and migrating it to the current schema. */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const flushIntervalMs = options.flushIntervalMs ?? DEFAULTS.flushIntervalMs;
  const maxBatch = Math.max(1, options.maxBatch ?? DEFAULTS.maxBatch);
  const onError = options.onError ?? reportOnce();
  const db = openDatabase(path);
  const sink = options.sink;
  const write = sink ? (batch: QueuedEvent[]) => sink.write(batch) : batchWriter(db, path, onError);
  const selects = new Map<string, StatementSync>();
  let queue: QueuedEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0 || closed) return;
    const batch = queue;
    queue = [];
    write(batch);
  }

  /** One statement per combination of filters, prepared on first use. */
  function select(sql: string): StatementSync {
    let statement = selects.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      selects.set(sql, statement);
    }
    return statement;
  }

  return {
    append(event) {
      if (closed) return;
      let data: string;
      try {
        data = JSON.stringify(event.data ?? {}) ?? "{}";
      } catch (cause) {
        onError(
          new FlotillaError(
            "FLOTILLA_E_STATE",
            `${path}: event ${event.kind} not recorded: its data is not JSON (${messageOf(cause)})`,
            { cause },
          ),
        );
        return;
      }
      queue.push({ ts: event.ts ?? Date.now(), kind: event.kind, agent: event.agent ?? null, data });
      // A full queue is written now, which bounds both memory and the size of one transaction.
      if (queue.length >= maxBatch) flush();
      else timer ??= setTimeout(flush, flushIntervalMs).unref();
    },
    flush,
    query(q: EventQuery = {}) {
      if (closed) throw new Error(`${path}: the ledger is closed`);
      flush();
      sink?.settle();
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      if (q.kind !== undefined) {
        where.push("kind = ?");
        params.push(q.kind);
      }
      if (q.kindPrefix !== undefined) {
        // GLOB is case-sensitive and uses the kind index for a literal prefix.
        where.push("kind GLOB ?");
        params.push(`${globLiteral(q.kindPrefix)}*`);
      }
      if (q.agent !== undefined) {
        where.push("agent = ?");
        params.push(q.agent);
      }
      if (q.sinceId !== undefined) {
        where.push("id > ?");
        params.push(q.sinceId);
      }
      params.push(queryLimit(q.limit));
      const filter = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
      const sql = `SELECT id, ts, kind, agent, data FROM
        (SELECT id, ts, kind, agent, data FROM events ${filter} ORDER BY id DESC LIMIT ?) ORDER BY id`;
      return select(sql)
        .all(...params)
        .map(toEvent);
    },
    close() {
      if (closed) return;
      flush();
      closed = true;
      sink?.close();
      db.close();
    },
  };
}

/** Writes each batch in one transaction; a batch that fails is rolled back and reported, not retried. */
function batchWriter(db: DatabaseSync, path: string, onError: (err: FlotillaError) => void) {
  const begin = db.prepare("BEGIN IMMEDIATE");
  const commit = db.prepare("COMMIT");
  const insert = db.prepare("INSERT INTO events (ts, kind, agent, data) VALUES (?, ?, ?, ?)");
  return (batch: QueuedEvent[]): void => {
    try {
      begin.run();
      for (const e of batch) insert.run(e.ts, e.kind, e.agent, e.data);
      commit.run();
    } catch (cause) {
      if (db.isTransaction) db.exec("ROLLBACK");
      // Dropped rather than kept: a full disk must not also grow the process's memory without bound.
      onError(
        new FlotillaError(
          "FLOTILLA_E_STATE",
          `${path}: ledger write failed, ${batch.length} events lost (${messageOf(cause)}); check disk space and permissions`,
          { cause },
        ),
      );
    }
  };
}

/** A connection that only writes batches: the far end of a BatchSink, on another thread. */
export function openBatchWriter(path: string, onError: (err: FlotillaError) => void) {
  const db = openDatabase(path);
  return { write: batchWriter(db, path, onError), close: () => db.close() };
}

function openDatabase(path: string): DatabaseSync {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new FlotillaError(
      "FLOTILLA_E_STATE",
      `${dirname(path)}: cannot create the state dir (${messageOf(cause)}); check its permissions or point stateDir elsewhere`,
      { cause },
    );
  }
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    // busy_timeout first, so that the switch to WAL waits for another connection's lock.
    db.exec(`PRAGMA busy_timeout = ${DEFAULTS.busyTimeoutMs}`);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    migrate(db, path);
    return db;
  } catch (cause) {
    if (db?.isOpen) db.close();
    if (isFlotillaError(cause)) throw cause;
    const errcode = (cause as { errcode?: unknown }).errcode;
    if (errcode === SQLITE_NOTADB || errcode === SQLITE_CORRUPT)
      throw notALedger(path, messageOf(cause), cause);
    throw new FlotillaError(
      "FLOTILLA_E_STATE",
      `${path}: cannot open the ledger (${messageOf(cause)}); check its permissions or point stateDir elsewhere`,
      { cause },
    );
  }
}

/** Applies the pending migrations in one transaction; the version is read again under the write lock. */
function migrate(db: DatabaseSync, path: string): void {
  if (userVersion(db) === LEDGER_SCHEMA_VERSION) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    const version = userVersion(db);
    if (version > LEDGER_SCHEMA_VERSION) {
      throw new FlotillaError(
        "FLOTILLA_E_STATE",
        `${path}: ledger schema version ${version} is newer than this Flotilla reads (${LEDGER_SCHEMA_VERSION}); upgrade Flotilla or point stateDir elsewhere`,
      );
    }
    if (version === 0 && db.prepare("SELECT 1 FROM sqlite_master LIMIT 1").get() !== undefined) {
      throw notALedger(path, "a SQLite database with other tables");
    }
    for (const migration of MIGRATIONS.slice(version)) db.exec(migration);
    db.exec(`PRAGMA user_version = ${LEDGER_SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}

function userVersion(db: DatabaseSync): number {
  return Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
}

function notALedger(path: string, reason: string, cause?: unknown): FlotillaError {
  return new FlotillaError(
    "FLOTILLA_E_STATE",
    `${path}: not a Flotilla ledger (${reason}); move it away or point stateDir elsewhere`,
    { cause },
  );
}

function toEvent(row: Record<string, SQLOutputValue>): LedgerEvent {
  return {
    id: Number(row.id),
    ts: Number(row.ts),
    kind: String(row.kind),
    agent: row.agent === null ? null : String(row.agent),
    // Written by append from JSON.stringify of an object, so it parses back to one.
    data: JSON.parse(String(row.data)) as Record<string, unknown>,
  };
}

/** Escapes GLOB's wildcards so the text matches only itself. */
function globLiteral(text: string): string {
  return text.replace(/[*?[]/g, (c) => `[${c}]`);
}

function queryLimit(limit: number | undefined): number {
  // SQLite reads a negative LIMIT as "no limit"; clamp instead.
  return limit === undefined || !Number.isFinite(limit)
    ? DEFAULTS.queryLimit
    : Math.max(0, Math.trunc(limit));
}

export function reportOnce(): (err: FlotillaError) => void {
  let reported = false;
  return function reportLedgerError(err) {
    if (reported) return;
    reported = true;
    console.error(`flotilla: ${err.message} (further ledger errors are not shown)`);
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
