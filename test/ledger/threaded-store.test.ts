/** The ledger with its writes on a worker thread: the same Store contract, and batches written in order. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import { openThreadedSqliteStore } from "../../src/ledger/threaded-store.ts";
import { storeSuite, tempLedgerPath } from "./store-suite.ts";

storeSuite("sqlite, written on a worker thread", (path) => openThreadedSqliteStore(path));

test("many batches written by the worker keep append order, and another connection sees them after close", (t) => {
  const path = tempLedgerPath(t);
  const store = openThreadedSqliteStore(path, { maxBatch: 100 });
  for (let i = 0; i < 2000; i++) store.append({ kind: "gateway.request", agent: "coder", data: { i } });
  const seen = store.query({ kind: "gateway.request", limit: 5000 });
  assert.equal(seen.length, 2000, "a read waits for every batch handed to the worker");
  assert.deepEqual(
    seen.map((e) => e.data.i),
    Array.from({ length: 2000 }, (_, i) => i),
  );
  store.append({ kind: "gateway.stopped" });
  store.close();
  const other = openSqliteStore(path);
  t.after(() => other.close());
  assert.equal(other.query({ kind: "gateway.stopped" }).length, 1, "close writes the last batch first");
});
