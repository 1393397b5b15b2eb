/** The SQLite ledger: node:sqlite in WAL mode, versioned migrations, appends queued and written in batches. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { FlotillaError } from "../errors.ts";
import type { EventQuery, LedgerEvent, NewEvent, Store } from "./store.ts";

/** Ordered schema migrations; the index + 1 is the schema version they bring the file to. */
const MIGRATIONS: string[] = [
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

export interface SqliteStoreOptions {
  /** Flush the queue this long after the first queued event (ms). */
  flushIntervalMs?: number;
  /** Flush at once when this many events are queued. */
  maxBatch?: number;
  /** Where write errors go; appends never throw. */
  onError?: (err: Error) => void;
}

function migrate(db: DatabaseSync): void {
  const version = (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
  for (let next = version; next < MIGRATIONS.length; next++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[next] as string);
      db.exec(`PRAGMA user_version = ${next + 1}`);
      db.exec("COMMIT");
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  }
}

function open(path: string): DatabaseSync {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    migrate(db);
    return db;
  } catch (cause) {
    db?.close();
    throw new FlotillaError(
      "FLOTILLA_E_STATE",
      `${path}: not a Flotilla ledger (${(cause as Error).message}); move it away or point stateDir elsewhere`,
      { cause },
    );
  }
}

/** Opens (creating and migrating) the ledger at path. */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const flushIntervalMs = options.flushIntervalMs ?? 50;
  const maxBatch = options.maxBatch ?? 500;
  let reported = false;
  const onError =
    options.onError ??
    ((err: Error) => {
      if (!reported) console.error(`flotilla: ledger write failed: ${err.message}`);
      reported = true;
    });
  const db = open(path);
  const insert = db.prepare("INSERT INTO events (ts, kind, agent, data) VALUES (?, ?, ?, ?)");
  const selects = new Map<string, StatementSync>();
  let queue: NewEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0 || closed) return;
    const batch = queue;
    queue = [];
    try {
      db.exec("BEGIN");
      for (const e of batch)
        insert.run(e.ts ?? Date.now(), e.kind, e.agent ?? null, JSON.stringify(e.data ?? {}));
      db.exec("COMMIT");
    } catch (err) {
      if (db.isTransaction) db.exec("ROLLBACK");
      onError(err as Error);
    }
  }

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
      queue.push({ ...event, ts: event.ts ?? Date.now() });
      if (queue.length >= maxBatch) flush();
      else timer ??= setTimeout(flush, flushIntervalMs).unref();
    },
    flush,
    query(q: EventQuery = {}) {
      flush();
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      if (q.kind !== undefined) where.push("kind = ?") && params.push(q.kind);
      if (q.kindPrefix !== undefined)
        where.push("kind >= ? AND kind < ?") && params.push(q.kindPrefix, `${q.kindPrefix}\uffff`);
      if (q.agent !== undefined) where.push("agent = ?") && params.push(q.agent);
      if (q.sinceId !== undefined) where.push("id > ?") && params.push(q.sinceId);
      params.push(q.limit ?? 100);
      const sql = `SELECT * FROM (SELECT id, ts, kind, agent, data FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?) ORDER BY id`;
      return (select(sql).all(...params) as Array<Omit<LedgerEvent, "data"> & { data: string }>).map(
        (row) => ({
          ...row,
          data: JSON.parse(row.data) as Record<string, unknown>,
        }),
      );
    },
    close() {
      if (closed) return;
      flush();
      closed = true;
      db.close();
    },
  };
}
