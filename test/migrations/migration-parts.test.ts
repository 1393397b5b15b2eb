/** The parts of config migrations on their own: the plan, the unified diff, journal settlement, backups, drift on a fake clock. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mock, test, type TestContext } from "node:test";
import { readJournal, settleJournal, writeJournal } from "../../src/migrations/apply-journal.ts";
import { createBackup, listBackups, readBackup } from "../../src/migrations/backups.ts";
import { createDriftWatch } from "../../src/migrations/drift.ts";
import { validateConfigText } from "../../src/config/load.ts";
import { adoptManagedFile, writeManagedFile } from "../../src/config/managed-files.ts";
import { computePlan, fixedSectionProblem, renderPlan } from "../../src/migrations/plan.ts";
import { unifiedDiff } from "../../src/migrations/unified-diff.ts";
import type { NewEvent, Store } from "../../src/ledger/store.ts";

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-migr-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function config(agents: string, extra = "") {
  const result = validateConfigText(`version: 1\n${extra}agents:\n${agents}`, "flotilla.yaml");
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.config;
}

/** A store that keeps events in memory, for parts that only append. */
function memoryStore(): Store & { events: NewEvent[] } {
  const events: NewEvent[] = [];
  return { events, append: (e) => void events.push(e), flush() {}, query: () => [], close() {} };
}

const none = { internal: [], agentEnv: {} };

test("a changed section restarts only the internal process that reads it", () => {
  const agents = "  - { name: a, command: x, workspace: /w/a }\n";
  const internal = (name: string) => ({ ...config(agents).agents[0]!, name });
  const wiring = { internal: [internal("simulator"), internal("gateway")], agentEnv: {} };
  const before = config(agents, "simulator: { models: [m1] }\n");
  const after = config(agents, "simulator: { models: [m1, m2] }\n");
  const plan = computePlan({ config: before, wiring }, { config: after, wiring });
  assert.deepEqual(plan.restart, [{ name: "simulator", fields: ["simulator"] }]);
  assert.deepEqual(plan.keep, ["gateway", "a"]);
});

test("the plan names added, removed, restarted (with the fields) and kept agents", () => {
  const before = config(
    "  - { name: a, command: x, workspace: /w/a }\n  - { name: b, command: x, workspace: /w/b }\n  - { name: c, command: x, workspace: /w/c }\n",
  );
  const after = config(
    "  - { name: a, command: x, workspace: /w/a }\n  - { name: b, command: y, workspace: /w/b, port: 9 }\n  - { name: d, command: x, workspace: /w/d }\n",
  );
  const plan = computePlan({ config: before, wiring: none }, { config: after, wiring: none });
  assert.deepEqual(plan, {
    add: ["d"],
    remove: ["c"],
    restart: [{ name: "b", fields: ["command", "port"] }],
    keep: ["a"],
    settings: [],
  });
  assert.match(renderPlan(plan), /~ restart b \(command, port\)/);
  const fleetWide = computePlan(
    { config: before, wiring: none },
    {
      config: config("  - { name: a, command: x, workspace: /w/a }\n", "inheritEnv: [PATH]\n"),
      wiring: none,
    },
  );
  assert.deepEqual(
    fleetWide.restart,
    [{ name: "a", fields: ["inheritEnv"] }],
    "inheritEnv restarts every agent",
  );
  assert.match(
    fixedSectionProblem(
      before,
      config("  - { name: a, command: x, workspace: /w/a }\n", "stateDir: /elsewhere\n"),
    ) ?? "",
    /^stateDir: cannot change while the fleet runs/,
  );
});

test("a change to providers or models restarts the gateway, and only the gateway", () => {
  const agents = "  - { name: a, command: x, workspace: /w/a }\n";
  const providers = (limit: number) =>
    `providers: [ { id: p, kind: openai, baseUrl: "http://127.0.0.1:1/v1", keys: [ { env: K } ], limits: { rpm: ${limit} } } ]\n`;
  const [agent] = config(agents).agents;
  assert.ok(agent);
  // The gateway's own process spec does not change; the sections it reads at start do.
  const wiring = {
    internal: [{ ...agent, name: "gateway" }],
    agentEnv: { a: { OPENAI_API_KEY: "virtual" } },
  };
  const plan = computePlan(
    { config: config(agents, providers(10)), wiring },
    { config: config(agents, providers(20)), wiring },
  );
  assert.deepEqual(plan.restart, [{ name: "gateway", fields: ["providers"] }]);
  assert.deepEqual(plan.keep, ["a"]);
});

test("the unified diff shows changed lines with context and hunk headers", () => {
  const before = "a\nb\nc\nd\ne\nf\ng\nh\n";
  const after = "a\nb\nc\nD\ne\nf\ng\nh\ni\n";
  assert.equal(
    unifiedDiff(before, after, { from: "old", to: "new" }, 1),
    "--- old\n+++ new\n@@ -3,3 +3,3 @@\n c\n-d\n+D\n e\n@@ -8,1 +8,2 @@\n h\n+i\n",
  );
  assert.equal(unifiedDiff(before, before, { from: "old", to: "new" }), "");
});

test("settling a journal rolls back an uncommitted apply and rolls forward a committed one", (t) => {
  const dir = tempDir(t);
  const state = join(dir, "state");
  const live = join(dir, "flotilla.yaml");
  const extra = join(dir, "constitution.md");
  for (const [phase, expected, expectedExtra] of [
    ["applying", "old\n", false],
    ["rolling_back", "old\n", false],
    ["committed", "new\n", true],
  ] as const) {
    writeFileSync(live, "new\n"); // whatever the dead daemon had written
    writeJournal(state, {
      id: `apply-${phase}`,
      phase,
      startedAt: 0,
      source: "apply new.yaml",
      backupId: null,
      files: [
        { path: live, before: "old\n", after: "new\n" },
        { path: extra, before: null, after: "# Article I\n" },
      ],
    });
    const settled = settleJournal(state);
    assert.equal(settled?.action, phase === "committed" ? "rolled_forward" : "rolled_back");
    assert.equal(readFileSync(live, "utf8"), expected, phase);
    assert.equal(existsSync(extra), expectedExtra, `${phase}: a file the apply created`);
    assert.equal(readJournal(state), undefined);
    rmSync(extra, { force: true });
  }
  assert.equal(settleJournal(state), undefined, "no journal, nothing to settle");
});

test("backups keep the configured number, list clearly, and an unknown id names the ones there are", (t) => {
  const dir = tempDir(t);
  const state = join(dir, "state");
  const cfg = config(
    "  - { name: a, command: x, workspace: /w/a }\n",
    `constitution: { articles: ${join(dir, "c.md")} }\n`,
  );
  writeFileSync(join(dir, "c.md"), "# Article I\nQuality over speed.\n");
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    ids.push(
      createBackup({
        stateDir: state,
        configFile: join(dir, "flotilla.yaml"),
        configText: `version: 1 # ${i}\n`,
        config: cfg,
        reason: `test ${i}`,
        keep: 2,
        protect: [ids[0] ?? ""],
      }).id,
    );
  }
  assert.deepEqual(
    listBackups(state).map((b) => b.id),
    [ids[0], ids[3]].sort(),
    "the protected backup and the newest survive",
  );
  const { contents } = readBackup(state, ids[3] ?? "");
  assert.equal(
    contents.get(join(dir, "c.md")),
    "# Article I\nQuality over speed.\n",
    "the constitution is in it",
  );
  assert.throws(() => readBackup(state, "nope"), {
    code: "FLOTILLA_E_BACKUP_NOT_FOUND",
    message: `no backup "nope" (backups: ${[ids[0], ids[3]].sort().join(", ")})`,
  });
});

test("drift: each different hand edit is one event within one interval (fake clock); Flotilla's own writes are not drift", (t) => {
  mock.timers.enable({ apis: ["setTimeout"] });
  t.after(() => mock.timers.reset());
  const dir = tempDir(t);
  const state = join(dir, "state");
  const store = memoryStore();
  const brief = join(dir, "FLOTILLA.md");
  const config = join(dir, "flotilla.yaml");
  writeManagedFile(state, brief, "# brief\n");
  writeFileSync(config, "version: 1\n");
  adoptManagedFile(state, config, "version: 1\n");
  const watch = createDriftWatch({ stateDir: state, store, every: 30_000 });
  t.after(() => watch.close());
  watch.start();

  writeManagedFile(state, brief, "# brief, rewritten by Flotilla\n");
  mock.timers.tick(30_000);
  assert.equal(store.events.length, 0, "a write through writeManagedFile is not drift");

  writeFileSync(config, "version: 1\n# hand edit\n");
  mock.timers.tick(29_999);
  assert.equal(store.events.length, 0);
  mock.timers.tick(1);
  assert.equal(store.events.length, 1, "raised at the next check");
  assert.equal(store.events[0]?.kind, "config.drift");
  assert.match(String(store.events[0]?.data?.diff), /^\+# hand edit$/m);
  mock.timers.tick(30_000);
  assert.equal(store.events.length, 1, "the same edit is not reported twice");
  writeFileSync(config, "version: 1\n# a second, different hand edit\n");
  mock.timers.tick(30_000);
  assert.equal(store.events.length, 2, "a further edit of a drifted file is reported too");
  assert.match(String(store.events[1]?.data?.diff), /^\+# a second, different hand edit$/m);
  mock.timers.tick(30_000);
  assert.equal(store.events.length, 2, "and only once");

  rmSync(brief);
  mock.timers.tick(30_000);
  assert.equal(store.events[2]?.data?.change, "deleted");
});
