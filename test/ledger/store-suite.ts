/** The shared Store suite: every ledger implementation runs these tests against a real store. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite, type TestContext, test } from "node:test";
import type { Store } from "../../src/ledger/store.ts";

/** Opens a store for one test. Implementations that do not live in a file may ignore the path. */
export type OpenStore = (path: string) => Store;

/** A fresh ledger path in a temp dir that is removed after the test. */
export function tempLedgerPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-ledger-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "state", "ledger.db");
}

/** Opens a store that is closed after the test, on top of anything the test closes itself. */
function openFor(t: TestContext, open: OpenStore, path = tempLedgerPath(t)): Store {
  const store = open(path);
  t.after(() => store.close());
  return store;
}

/** Registers the Store tests for one implementation. */
export function storeSuite(name: string, open: OpenStore): void {
  suite(`Store contract: ${name}`, () => {
    test("append then query returns the events with ids, defaults and data", (t) => {
      const store = openFor(t, open);
      const before = Date.now();
      store.append({ kind: "agent.started", agent: "coder", data: { pid: 42, argv: ["a", "b"] } });
      store.append({ kind: "daemon.started" });
      store.append({ kind: "agent.exited", agent: "coder", data: { code: 1 }, ts: 1_700_000_000_000 });
      const after = Date.now();
      const events = store.query();
      assert.equal(events.length, 3);
      const [first, second, third] = events;
      assert.ok(first && second && third);
      assert.ok(first.id < second.id && second.id < third.id, "ids increase in append order");
      assert.deepEqual(
        { kind: first.kind, agent: first.agent, data: first.data },
        { kind: "agent.started", agent: "coder", data: { pid: 42, argv: ["a", "b"] } },
      );
      assert.ok(first.ts >= before && first.ts <= after, "ts defaults to the time of the append");
      assert.deepEqual({ agent: second.agent, data: second.data }, { agent: null, data: {} });
      assert.equal(third.ts, 1_700_000_000_000);
    });

    test("data is captured at append", (t) => {
      const store = openFor(t, open);
      const data: Record<string, unknown> = { state: "starting" };
      store.append({ kind: "agent.state", data });
      data.state = "changed after append";
      assert.deepEqual(store.query()[0]?.data, { state: "starting" });
    });

    test("query filters by kind, kindPrefix, agent and sinceId, and they combine", (t) => {
      const store = openFor(t, open);
      store.append({ kind: "agent.started", agent: "coder" });
      store.append({ kind: "agent.exited", agent: "coder" });
      store.append({ kind: "agent.started", agent: "reviewer" });
      store.append({ kind: "agents.listed" });
      store.append({ kind: "daemon.started" });
      store.append({ kind: "Agent.started" });
      const kinds = (events: { kind: string; agent: string | null }[]) =>
        events.map((e) => `${e.kind}/${e.agent ?? "-"}`);

      assert.deepEqual(kinds(store.query({ kind: "agent.started" })), [
        "agent.started/coder",
        "agent.started/reviewer",
      ]);
      assert.deepEqual(kinds(store.query({ kindPrefix: "agent." })), [
        "agent.started/coder",
        "agent.exited/coder",
        "agent.started/reviewer",
      ]);
      assert.deepEqual(kinds(store.query({ agent: "coder" })), ["agent.started/coder", "agent.exited/coder"]);
      assert.deepEqual(kinds(store.query({ kindPrefix: "agent.", agent: "reviewer" })), [
        "agent.started/reviewer",
      ]);
      const all = store.query();
      const third = all[2];
      assert.ok(third);
      assert.deepEqual(
        store.query({ sinceId: third.id }).map((e) => e.id),
        all.slice(3).map((e) => e.id),
      );
      assert.deepEqual(store.query({ kind: "nothing.like.this" }), []);
    });

    test("kindPrefix is literal text: wildcard characters match only themselves", (t) => {
      const store = openFor(t, open);
      for (const kind of ["a*b", "axb", "a?c", "ayc", "a[1]", "a1", "a%z", "a_z", "aqz"])
        store.append({ kind });
      const kinds = (prefix: string) => store.query({ kindPrefix: prefix }).map((e) => e.kind);
      assert.deepEqual(kinds("a*"), ["a*b"]);
      assert.deepEqual(kinds("a?"), ["a?c"]);
      assert.deepEqual(kinds("a["), ["a[1]"]);
      assert.deepEqual(kinds("a%"), ["a%z"]);
      assert.deepEqual(kinds("a_"), ["a_z"]);
      assert.equal(kinds("").length, 9, "an empty prefix matches every kind");
    });

    test("limit keeps the newest events, oldest first; the default is 100", (t) => {
      const store = openFor(t, open);
      for (let i = 1; i <= 150; i++) store.append({ kind: "tick", data: { i } });
      const seq = (events: { data: Record<string, unknown> }[]) => events.map((e) => e.data.i);
      const byDefault = store.query();
      assert.equal(byDefault.length, 100);
      assert.equal(byDefault[0]?.data.i, 51);
      assert.equal(byDefault[99]?.data.i, 150);
      assert.deepEqual(seq(store.query({ limit: 3 })), [148, 149, 150]);
      assert.equal(store.query({ limit: 1000 }).length, 150);
      assert.deepEqual(store.query({ limit: 0 }), []);
      const fifth = store.query({ limit: 1000 })[4];
      assert.ok(fifth);
      assert.deepEqual(seq(store.query({ sinceId: fifth.id, limit: 2 })), [149, 150]);
    });

    test("2000 appends are all there after flush, in order", (t) => {
      const store = openFor(t, open);
      for (let i = 0; i < 2000; i++) store.append({ kind: "load", agent: `a${i % 7}`, data: { i } });
      store.flush();
      const events = store.query({ limit: 5000 });
      assert.equal(events.length, 2000);
      assert.deepEqual(
        events.map((e) => e.data.i),
        Array.from({ length: 2000 }, (_, i) => i),
      );
    });

    test("query sees appends that are still queued", (t) => {
      const store = openFor(t, open);
      store.append({ kind: "queued" });
      assert.deepEqual(
        store.query().map((e) => e.kind),
        ["queued"],
      );
    });

    test("close flushes; reopening keeps the data and ids keep increasing", (t) => {
      const path = tempLedgerPath(t);
      const first = open(path);
      first.append({ kind: "one", agent: "coder", data: { n: 1 } });
      first.append({ kind: "two" });
      first.close();

      const second = openFor(t, open, path);
      const kept = second.query();
      assert.deepEqual(
        kept.map((e) => [e.kind, e.agent, e.data]),
        [
          ["one", "coder", { n: 1 }],
          ["two", null, {}],
        ],
      );
      second.append({ kind: "three" });
      const last = second.query().at(-1);
      const lastKept = kept.at(-1);
      assert.ok(last && lastKept);
      assert.equal(last.kind, "three");
      assert.ok(last.id > lastKept.id);
    });

    test("close is idempotent and appends after close are dropped without throwing", (t) => {
      const path = tempLedgerPath(t);
      const store = open(path);
      store.append({ kind: "before" });
      store.close();
      store.close();
      store.append({ kind: "after" });
      store.flush();
      store.close();
      const reopened = openFor(t, open, path);
      assert.deepEqual(
        reopened.query().map((e) => e.kind),
        ["before"],
      );
    });
  });
}
