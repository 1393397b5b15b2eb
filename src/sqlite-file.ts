/**
 * A SQLite file of Flotilla's own (node:sqlite): created 0600 in a 0700 folder, WAL, and brought to its
 * schema version by versioned migrations in one transaction. For the stores beside the ledger (oversight's
 * findings, the alert queue); the ledger has checks of its own on top (src/ledger/sqlite-store.ts).
 */
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { FlotillaError } from "./errors.ts";

export interface VersionedFile {
  /** What the file holds, for messages: "the oversight store". */
  what: string;
  /** MIGRATIONS[i] brings the file to version i + 1 (PRAGMA user_version); only ever append. */
  migrations: readonly string[];
}

/** Opens (creating and migrating) the file; any failure is a FlotillaError that names the file and what to do. */
export function openVersionedFile(path: string, file: VersionedFile): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fresh = !existsSync(path);
    db = new DatabaseSync(path);
    if (fresh) chmodSync(path, 0o600);
    // busy_timeout first, so that the switch to WAL waits for another connection's lock.
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    migrate(db, path, file);
    return db;
  } catch (cause) {
    if (db?.isOpen) db.close();
    if (cause instanceof FlotillaError) throw cause;
    throw new FlotillaError(
      "FLOTILLA_E_STATE",
      `${path}: cannot open ${file.what} (${(cause as Error).message}); check its permissions, or move it away to start afresh`,
      { cause },
    );
  }
}

const userVersion = (db: DatabaseSync): number =>
  Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);

/** Applies the pending migrations in one transaction; the version is read again under the write lock. */
function migrate(db: DatabaseSync, path: string, file: VersionedFile): void {
  const latest = file.migrations.length;
  if (userVersion(db) === latest) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    const current = userVersion(db);
    if (current > latest)
      throw new FlotillaError(
        "FLOTILLA_E_STATE",
        `${path}: ${file.what}'s schema version ${current} is newer than this Flotilla reads (${latest}); upgrade Flotilla`,
      );
    for (const migration of file.migrations.slice(current)) db.exec(migration);
    db.exec(`PRAGMA user_version = ${latest}`);
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}
