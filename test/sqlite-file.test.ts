/** The stores beside the ledger: a new file is 0600 and migrated once; a newer schema or a non-database is refused with the file named. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DatabaseSync } from "node:sqlite";
import { openVersionedFile } from "../src/sqlite-file.ts";
import { FLEETS_DIR } from "./support/fleet.ts";

const FILE = { what: "the test store", migrations: ["CREATE TABLE a (x)", "CREATE TABLE b (y)"] };

test("a new file is created 0600 at the latest version; reopening applies nothing twice", (t) => {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-sqlite-file-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "sub", "store.db");
  openVersionedFile(path, { ...FILE, migrations: FILE.migrations.slice(0, 1) }).close();
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const db = openVersionedFile(path, FILE);
  assert.equal(db.prepare("PRAGMA user_version").get()?.user_version, 2);
  assert.deepEqual(
    db
      .prepare("SELECT name FROM sqlite_master ORDER BY name")
      .all()
      .map((r) => r.name),
    ["a", "b"],
  );
  db.close();
  openVersionedFile(path, FILE).close();
});

test("a newer schema and a file that is not a database are refused, naming the file and what to do", (t) => {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-sqlite-file-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const newer = join(dir, "newer.db");
  const raw = new DatabaseSync(newer);
  raw.exec("PRAGMA user_version = 7");
  raw.close();
  assert.throws(() => openVersionedFile(newer, FILE), {
    code: "FLOTILLA_E_STATE",
    message: `${newer}: the test store's schema version 7 is newer than this Flotilla reads (2); upgrade Flotilla`,
  });
  const garbage = join(dir, "garbage.db");
  writeFileSync(garbage, "not a database at all, just text that is long enough to be read as a header");
  assert.throws(
    () => openVersionedFile(garbage, FILE),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, "FLOTILLA_E_STATE");
      assert.match(
        err.message,
        new RegExp(
          `^${garbage}: cannot open the test store \\(.+\\); check its permissions, or move it away`,
        ),
      );
      return true;
    },
  );
});
