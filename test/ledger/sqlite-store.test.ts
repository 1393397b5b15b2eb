/** The SQLite ledger: the shared Store suite, plus WAL, batching, migrations and bad files on a real file. */
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type TestContext, test } from "node:test";
import { FlotillaError } from "../../src/errors.ts";
import {
  LEDGER_SCHEMA_VERSION,
  openSqliteStore,
  type SqliteStoreOptions,
} from "../../src/ledger/sqlite-store.ts";
import type { Store } from "../../src/ledger/store.ts";
import { storeSuite, tempLedgerPath } from "./store-suite.ts";

storeSuite("sqlite", (path) => openSqliteStore(path));

function openStore(t: TestContext, path: string, options?: SqliteStoreOptions): Store {
  const store = openSqliteStore(path, options);
  t.after(() => store.close());
  return store;
}

/** A second, independent connection on the same file, as `sqlite3` would open it. */
function reader(t: TestContext, path: string): { count(): number; pragma(name: string): unknown } {
  const db = new DatabaseSync(path, { readOnly: true });
  t.after(() => db.close());
  return {
    count: () => Number(db.prepare("SELECT count(*) AS n FROM events").get()?.n),
    pragma: (name) => Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0],
  };
}

function isStateError(pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof FlotillaError);
    assert.equal(err.code, "FLOTILLA_E_STATE");
    assert.match(err.message, pattern);
    return true;
  };
}

test("the file is in WAL mode and the state dir is created with mode 0700", (t) => {
  const path = tempLedgerPath(t);
  openStore(t, path);
  assert.equal(reader(t, path).pragma("journal_mode"), "wal");
  assert.equal(statSync(dirname(path)).mode & 0o777, 0o700);
});

test("appends are not written until flush; a second connection then sees all of them", (t) => {
  const path = tempLedgerPath(t);
  const store = openStore(t, path);
  const other = reader(t, path);
  for (let i = 0; i < 400; i++) store.append({ kind: "load", data: { i } });
  assert.equal(other.count(), 0, "append wrote synchronously");
  store.flush();
  assert.equal(other.count(), 400);
});

test("a full queue is written at once, without waiting for the timer", (t) => {
  const path = tempLedgerPath(t);
  const store = openStore(t, path, { maxBatch: 10, flushIntervalMs: 60_000 });
  const other = reader(t, path);
  for (let i = 0; i < 9; i++) store.append({ kind: "load" });
  assert.equal(other.count(), 0);
  store.append({ kind: "load" });
  assert.equal(other.count(), 10);
  for (let i = 0; i < 25; i++) store.append({ kind: "load" });
  assert.equal(other.count(), 30, "every full batch is written; the last 5 wait");
});

test("the timer writes the queue flushIntervalMs after the first append", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const path = tempLedgerPath(t);
  const store = openStore(t, path, { flushIntervalMs: 50 });
  const other = reader(t, path);
  store.append({ kind: "first" });
  t.mock.timers.tick(30);
  store.append({ kind: "second" });
  t.mock.timers.tick(19);
  assert.equal(other.count(), 0);
  t.mock.timers.tick(1);
  assert.equal(other.count(), 2, "one timer covers the whole batch");
});

test("the schema version is set at open, and reopening runs no migration again", (t) => {
  const path = tempLedgerPath(t);
  const store = openSqliteStore(path);
  store.append({ kind: "kept" });
  store.close();
  const other = reader(t, path);
  assert.equal(other.pragma("user_version"), LEDGER_SCHEMA_VERSION);
  assert.ok(LEDGER_SCHEMA_VERSION >= 1);
  // Migration 1 is a plain CREATE TABLE: running it twice would fail the open.
  const reopened = openStore(t, path);
  assert.deepEqual(
    reopened.query().map((e) => e.kind),
    ["kept"],
  );
  assert.equal(other.pragma("user_version"), LEDGER_SCHEMA_VERSION);
});

test("a file that is not SQLite gives FLOTILLA_E_STATE and is left as it was", (t) => {
  const path = tempLedgerPath(t);
  openSqliteStore(path).close(); // creates the directory
  const junk = "these are not the bytes of a SQLite database\n".repeat(200);
  writeFileSync(path, junk);
  assert.throws(
    () => openSqliteStore(path),
    isStateError(/ledger\.db: not a Flotilla ledger \(.+\); move it away or point stateDir elsewhere$/),
  );
  assert.equal(readFileSync(path, "utf8"), junk);
});

test("another program's SQLite database gives FLOTILLA_E_STATE and is not migrated", (t) => {
  const path = tempLedgerPath(t);
  openSqliteStore(path).close();
  writeFileSync(path, "");
  const foreign = new DatabaseSync(path);
  foreign.exec("CREATE TABLE notes (body TEXT)");
  foreign.close();
  assert.throws(() => openSqliteStore(path), isStateError(/not a Flotilla ledger \(a SQLite database/));
  assert.equal(reader(t, path).pragma("user_version"), 0);
});

test("a ledger from a newer Flotilla gives FLOTILLA_E_STATE", (t) => {
  const path = tempLedgerPath(t);
  openSqliteStore(path).close();
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA user_version = ${LEDGER_SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => openSqliteStore(path), isStateError(/is newer than this Flotilla reads/));
});

test("write errors go to onError, never to the caller of append", (t) => {
  const path = tempLedgerPath(t);
  const errors: FlotillaError[] = [];
  const store = openStore(t, path, { onError: (err) => errors.push(err) });
  store.append({ kind: "fine", data: { big: 1n } });
  assert.equal(errors.length, 1, "data that is not JSON is reported at append");
  assert.match(errors[0]?.message ?? "", /event fine not recorded/);

  const other = new DatabaseSync(path);
  other.exec("DROP TABLE events");
  other.close();
  store.append({ kind: "lost" });
  store.append({ kind: "lost" });
  assert.doesNotThrow(() => store.flush());
  assert.equal(errors.length, 2);
  assert.equal(errors[1]?.code, "FLOTILLA_E_STATE");
  assert.match(errors[1]?.message ?? "", /ledger write failed, 2 events lost/);
});

test("without onError, write errors are printed once", (t) => {
  const printed = t.mock.method(console, "error", () => {});
  const path = tempLedgerPath(t);
  const store = openStore(t, path);
  const other = new DatabaseSync(path);
  other.exec("DROP TABLE events");
  other.close();
  for (let i = 0; i < 3; i++) {
    store.append({ kind: "lost" });
    store.flush();
  }
  assert.equal(printed.mock.callCount(), 1);
  assert.match(String(printed.mock.calls[0]?.arguments[0]), /^flotilla: .*ledger write failed/);
  assert.ok(existsSync(path));
});
