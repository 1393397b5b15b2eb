/**
 * The oversight runner over a real SQLite ledger and findings store: each check catches its incident
 * with its evidence, a throwing check does not stop the others, findings dedupe and resolve, notify and
 * auto-penalties, the stall watch.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import type { FlotillaConfig } from "../../src/config/schema.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import type { NewEvent, Store } from "../../src/ledger/store.ts";
import { LEDGER_CHECKS } from "../../src/oversight/checks/index.ts";
import type { Check } from "../../src/oversight/check.ts";
import type { Finding } from "../../src/oversight/finding.ts";
import { createOversight, type OversightOptions } from "../../src/oversight/runner.ts";
import { createStallWatch } from "../../src/oversight/stall-watch.ts";
import type { AgentStatus } from "../../src/supervisor/agent-runner.ts";
import { FLEETS_DIR, waitFor } from "../support/fleet.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);

interface Harness {
  config: FlotillaConfig;
  ledger: Store;
  dir: string;
  clock: { now: number };
  add(event: NewEvent, count?: number): void;
  oversight(extra?: Partial<OversightOptions>): ReturnType<typeof createOversight>;
}

const CONSTITUTION = `# Constitution\n\n## Article I: Quality comes before speed\n\nTests first.\n\n## Article II: Look it up\n\nCite sources.\n`;

function harness(t: TestContext, oversightYaml = "{ every: 5m }", agentsYaml?: string): Harness {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-oversight-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "constitution.md"), CONSTITUTION);
  writeFileSync(
    join(dir, "flotilla.yaml"),
    `version: 1
stateDir: ./state
oversight: ${oversightYaml}
agents:
${agentsYaml ?? "  - { name: coder, command: [node, a.js], workspace: ./ws }\n  - { name: writer, command: [node, a.js], workspace: ./ws }"}
`,
  );
  const config = loadConfig(join(dir, "flotilla.yaml")).config;
  const ledger = openSqliteStore(join(dir, "state/ledger.db"));
  t.after(() => ledger.close());
  const clock = { now: T0 };
  const h: Harness = {
    config,
    ledger,
    dir,
    clock,
    add(event, count = 1) {
      for (let i = 0; i < count; i++) ledger.append({ ts: clock.now, ...event });
    },
    oversight(extra = {}) {
      const o = createOversight({
        config: () => config,
        ledger,
        status: () => [],
        stateDir: config.stateDir,
        checks: [...LEDGER_CHECKS],
        now: () => clock.now,
        ...extra,
      });
      t.after(() => o.close());
      return o;
    },
  };
  return h;
}

function status(name: string, state: AgentStatus["state"]): AgentStatus {
  return {
    name,
    state,
    pid: null,
    port: null,
    uptimeSec: null,
    restarts: 3,
    health: { ok: null, latencyMs: null },
    lastExit: { code: 3, signal: null, at: T0 },
    retryAt: null,
    limits: { applied: [], warnings: [] },
    isolation: "none",
  };
}

const request = (agent: string, data: Record<string, unknown>): NewEvent => ({
  kind: "gateway.request",
  agent,
  data: { tier: "primary", status: 200, inputTokens: 100, outputTokens: 20, contextPressure: 0.1, ...data },
});

test("liveness: a crash loop, restarts, a dead key, a budget stop and a rollback, each quoting its event", async (t) => {
  const h = harness(t);
  h.add({ kind: "agent.failed", agent: "coder", data: { reason: "burst", code: 3 } });
  h.add({ kind: "agent.restarted", agent: "writer", data: { attempt: 1 } }, 3);
  h.add({ kind: "agent.restarted", agent: "coder", data: { manual: true } });
  h.add({ kind: "gateway.key_dead", data: { provider: "openai", key: 1, reason: "revoked", usable: 0 } });
  h.add({ kind: "gateway.budget_exceeded", agent: "writer", data: { daily: 5, spent: 5.2 } });
  h.add({ kind: "config.rolled_back", data: { id: "a1", healthy: true } });
  const events = h.ledger.query({ limit: 100 });
  const id = (kind: string) => events.find((e) => e.kind === kind)?.id;
  const o = h.oversight({ status: () => [status("coder", "failed"), status("writer", "running")] });
  const { findings, run } = await o.runOnce();
  const liveness = findings.filter((f) => f.check === "liveness");
  const by = (pattern: RegExp) => liveness.find((f) => pattern.test(f.evidence));
  assert.equal(by(/coder is failed after a crash loop/)?.severity, "critical");
  assert.match(
    by(/coder is failed/)?.evidence ?? "",
    new RegExp(`ledger event #${id("agent.failed")} agent\\.failed`),
  );
  assert.match(by(/automatic restart/)?.evidence ?? "", /^3 automatic restart\(s\) of writer/);
  assert.ok(
    !liveness.some((f) => f.agent === "coder" && /restart/.test(f.evidence)),
    "a manual restart is no finding",
  );
  assert.match(
    by(/key_dead/)?.evidence ?? "",
    new RegExp(`#${id("gateway.key_dead")} gateway.key_dead: provider openai key 1`),
  );
  assert.equal(by(/budget_exceeded/)?.agent, "writer");
  assert.match(
    by(/rolled_back/)?.evidence ?? "",
    new RegExp(`#${id("config.rolled_back")} config.rolled_back`),
  );
  assert.equal(run.counts.liveness, 5);
});

test("config drift: the event id, the file and the first change, with a secret-shaped word masked", async (t) => {
  const h = harness(t);
  h.add({
    kind: "config.drift",
    data: {
      file: "/fleet/flotilla.yaml",
      change: "edited",
      diff: "--- a\n+++ b\n@@ -1 +1,2 @@\n stateDir: ./state\n+ token: sk-abcdefghijklmnopqrstuvwxyz123456\n",
    },
  });
  const { findings } = await h.oversight().runOnce();
  const drift = findings.find((f) => f.check === "config-drift");
  assert.ok(drift);
  assert.match(
    drift.evidence,
    /^ledger event #\d+ config\.drift: \/fleet\/flotilla\.yaml was edited by hand \(\+1 −0 lines\)/,
  );
  assert.match(drift.evidence, /first change: \+ token: \[secret masked\]/);
  assert.ok(!drift.evidence.includes("sk-abc"));
});

test("limits: upstream 429s, the fallback share and context pressure per agent", async (t) => {
  const h = harness(t, "{ every: 5m, thresholds: { fallbackShare: 0.5, contextPressure: 0.9 } }");
  h.add(
    {
      kind: "gateway.key_cooldown",
      agent: "coder",
      data: { provider: "sim", key: 0, status: 429, forMs: 1000 },
    },
    4,
  );
  h.add(request("coder", { tier: "fallback" }), 6);
  h.add(request("coder", {}), 2);
  h.add(request("writer", { tier: "fallback" }), 1);
  h.add(request("writer", {}), 9);
  h.add(request("writer", { contextPressure: 0.95 }));
  const { findings } = await h.oversight().runOnce();
  const limits = findings.filter((f) => f.check === "limits");
  assert.match(
    limits.find((f) => f.key === "429")?.evidence ?? "",
    /^4 upstream 429\(s\) for coder's requests .*provider sim/,
  );
  const share = limits.filter((f) => f.key === "fallback-share");
  assert.deepEqual(
    share.map((f) => f.agent),
    ["coder"],
  );
  assert.match(share[0]?.evidence ?? "", /6 of coder's 8 requests \(75 %, threshold 50 %\)/);
  assert.match(
    limits.find((f) => f.key === "context-pressure")?.evidence ?? "",
    /1 of writer's requests .*worst 95 %/,
  );
});

test("budget burn: an agent on pace to spend more than its daily budget", async (t) => {
  const h = harness(
    t,
    "{ every: 5m }",
    "  - { name: coder, command: [node, a.js], workspace: ./ws, budget: { daily: 1 } }",
  );
  h.add(request("coder", { costUsd: 0.75 }));
  const { findings } = await h.oversight().runOnce();
  assert.match(
    findings.find((f) => f.key === "budget-burn")?.evidence ?? "",
    /coder spent \$0\.7500 so far today \(UTC\); at this rate it reaches \$1\.50/,
  );
});

test("runaway: a tool-call loop, an error loop and a burn far above the agent's baseline", async (t) => {
  const h = harness(t, "{ every: 5m, thresholds: { repeatedRequests: 20, burnFactor: 5 } }");
  // A day of quiet history for the writer: 1,000 tokens an hour.
  for (let hour = 20; hour >= 1; hour--) {
    h.ledger.append({ ts: T0 - hour * HOUR, ...request("writer", { inputTokens: 900, outputTokens: 100 }) });
  }
  const o = h.oversight();
  await o.runOnce();
  h.clock.now += 5 * 60_000;
  h.add(request("coder", { fingerprint: "aaaaaaaaaaaaaaaa" }), 25);
  h.add(request("coder", { fingerprint: "bbbbbbbbbbbbbbbb" }), 3);
  h.add(request("writer", { fingerprint: null, inputTokens: 20_000, outputTokens: 1000 }));
  h.add({ kind: "gateway.exhausted", agent: "writer", data: { failures: ["sim: 503"] } }, 20);
  const { findings } = await o.runOnce();
  const runaway = findings.filter((f) => f.check === "runaway");
  const loop = runaway.find((f) => f.key === "loop:aaaaaaaaaaaaaaaa");
  assert.ok(loop);
  assert.equal(loop.severity, "critical");
  assert.match(
    loop.evidence,
    /^25 requests by coder with the same last message \(fingerprint aaaaaaaaaaaaaaaa\)/,
  );
  assert.ok(!runaway.some((f) => f.key === "loop:bbbbbbbbbbbbbbbb"), "3 repeats are under the threshold");
  assert.match(runaway.find((f) => f.key === "error-loop")?.evidence ?? "", /^20 failed requests by writer/);
  const burn = runaway.find((f) => f.key === "burn");
  assert.equal(burn?.agent, "writer");
  assert.match(burn?.evidence ?? "", /writer burned 21000 tokens since the last run/);
  assert.ok(!runaway.some((f) => f.key === "burn" && f.agent === "coder"), "no baseline, no burn finding");
});

test("a throwing check becomes a finding and the other checks still run", async (t) => {
  const h = harness(t);
  h.add({ kind: "config.rolled_back", data: { id: "a1", healthy: true } });
  const broken: Check = {
    name: "broken",
    run() {
      throw new Error("cannot read /nowhere");
    },
  };
  const { run, findings } = await h.oversight({ checks: [broken, ...LEDGER_CHECKS] }).runOnce();
  assert.equal(run.outcome, "partial");
  assert.deepEqual(run.errors, [{ check: "broken", message: "cannot read /nowhere" }]);
  const failed = findings.find((f) => f.check === "broken");
  assert.match(failed?.evidence ?? "", /the broken check failed: cannot read \/nowhere/);
  assert.ok(
    findings.some((f) => f.check === "liveness"),
    "liveness ran after the broken check",
  );
});

test("findings dedupe across runs, auto-resolve when no longer reported, and an acknowledgement stays", async (t) => {
  const h = harness(t);
  let states: AgentStatus[] = [status("coder", "backoff"), status("writer", "backoff")];
  const o = h.oversight({ status: () => states });
  const first = await o.runOnce();
  assert.equal(first.findings.length, 2);
  const [coder, writer] = ["coder", "writer"].map((a) => first.findings.find((f) => f.agent === a));
  assert.ok(coder && writer);
  o.store.acknowledge(writer.id, "operator", h.clock.now);
  h.clock.now += 60_000;
  const second = await o.runOnce();
  assert.deepEqual(
    second.findings.map((f) => f.id).sort(),
    [coder.id, writer.id].sort(),
    "the same findings",
  );
  assert.equal(second.findings.find((f) => f.id === writer.id)?.state, "acknowledged");
  assert.equal(second.findings.find((f) => f.id === coder.id)?.lastSeen, h.clock.now);
  assert.equal(o.store.list().length, 2, "no new findings");
  states = [status("coder", "running"), status("writer", "backoff")];
  h.clock.now += 60_000;
  await o.runOnce();
  assert.equal(o.store.get(coder.id)?.state, "resolved");
  assert.equal(o.store.get(writer.id)?.state, "acknowledged");
  // Down again later: a new incident, a new finding.
  states = [status("coder", "backoff")];
  const fourth = await o.runOnce();
  assert.notEqual(fourth.findings.find((f) => f.agent === "coder")?.id, coder.id);
});

test("notify gets the live findings; a failing notify does not fail the run; oversight.run holds counts only", async (t) => {
  const h = harness(t);
  h.add({
    kind: "config.drift",
    data: { file: "/f.yaml", change: "edited", diff: "+secret-looking line\n" },
  });
  const seen: Finding[][] = [];
  const o = h.oversight({
    notify: async (open) => {
      seen.push(open);
      throw new Error("webhook https://hooks.example/T0KEN answered 500");
    },
  });
  const result = await o.runOnce();
  assert.equal(result.run.outcome, "ok");
  assert.deepEqual(
    seen[0]?.map((f) => f.check),
    ["config-drift"],
  );
  const events = h.ledger.query({ kindPrefix: "oversight." });
  assert.deepEqual(
    events.map((e) => e.kind),
    ["oversight.run", "oversight.notify_failed"],
  );
  const text = JSON.stringify(events);
  assert.ok(!text.includes("secret-looking") && !text.includes("T0KEN"), text);
  assert.deepEqual(events[0]?.data.counts, { liveness: 0, "config-drift": 1, limits: 0, runaway: 0 });
});

test("autoPenalty accepts the drafted penalty of a critical finding once", async (t) => {
  const h = harness(t, "{ every: 5m, autoPenalty: true }");
  h.add(request("coder", { fingerprint: "cccccccccccccccc" }), 30);
  const accepted: Array<{ agent: string; why: string }> = [];
  const o = h.oversight({
    acceptPenalty: (agent, draft) => {
      accepted.push({ agent, why: draft.why });
      return 100 + accepted.length;
    },
  });
  const first = await o.runOnce();
  assert.equal(accepted.length, 1);
  assert.equal(accepted[0]?.agent, "coder");
  assert.match(accepted[0]?.why ?? "", /Article I: Quality comes before speed/);
  assert.equal(first.findings.find((f) => f.check === "runaway")?.penaltyId, 101);
  // The loop goes on: the same finding, and no second penalty.
  h.add(request("coder", { fingerprint: "cccccccccccccccc" }), 30);
  await o.runOnce();
  assert.equal(accepted.length, 1);
});

test("the stall watch raises oversight-stalled when no run finished in two intervals; the next run resolves it", async (t) => {
  const h = harness(t, "{ every: 1m }");
  const hung: Check = { name: "hangs", run: () => new Promise(() => {}) };
  const o = h.oversight({ checks: [hung] });
  const notified: Finding[][] = [];
  const watch = createStallWatch({
    store: o.store,
    every: () => 60_000,
    enabled: () => true,
    since: h.clock.now,
    now: () => h.clock.now,
    notify: async (open) => void notified.push(open),
  });
  t.after(() => watch.close());
  void o.runOnce();
  h.clock.now += 119_000;
  assert.equal(await watch.check(), undefined, "within two intervals");
  h.clock.now += 2_000;
  const stalled = await watch.check();
  assert.equal(stalled?.check, "oversight-stalled");
  assert.equal(stalled?.severity, "critical");
  assert.match(stalled?.evidence ?? "", /no oversight run has finished in the 121s since the daemon started/);
  assert.equal(notified.length, 1);
  // A healthy pass resolves it.
  const healthy = h.oversight({ checks: [] });
  await healthy.runOnce();
  assert.equal(healthy.store.get(stalled?.id ?? "")?.state, "resolved");
});

test("the schedule: runs every interval, never overlapping; a disabled pass skips its turn; a new interval counts at once", async (t) => {
  const h = harness(t, "{ every: 100ms }");
  const dir = h.dir;
  writeFileSync(
    join(dir, "off.yaml"),
    readFileSync(join(dir, "flotilla.yaml"), "utf8").replace("every: 100ms", "every: 100ms, enabled: false"),
  );
  writeFileSync(
    join(dir, "slow.yaml"),
    readFileSync(join(dir, "flotilla.yaml"), "utf8").replace("every: 100ms", "every: 1h"),
  );
  const configs = {
    on: h.config,
    off: loadConfig(join(dir, "off.yaml")).config,
    slow: loadConfig(join(dir, "slow.yaml")).config,
  };
  let current = configs.on;
  let inFlight = 0;
  let overlapped = false;
  const slowCheck: Check = {
    name: "slow",
    async run() {
      if (++inFlight > 1) overlapped = true;
      // Longer than the interval: the next run must wait for this one.
      await new Promise((resolve) => setTimeout(resolve, 150));
      inFlight--;
      return [];
    },
  };
  const o = h.oversight({ config: () => current, checks: [slowCheck], now: Date.now });
  o.start();
  const runs = () => h.ledger.query({ kind: "oversight.run" }).length;
  await waitFor(() => runs() >= 3, "three scheduled runs");
  assert.equal(overlapped, false, "runs never overlap");
  current = configs.off;
  const before = runs();
  // Two turns pass (each reschedules), and neither runs while disabled.
  for (let turn = 0; turn < 2; turn++) {
    const due = await waitFor(() => o.nextRunAt() ?? undefined, "a scheduled turn");
    await waitFor(() => o.nextRunAt() !== null && o.nextRunAt() !== due, "the next turn");
  }
  assert.ok(runs() <= before + 1, "at most the run already under way when it was disabled");
  current = configs.slow;
  o.reschedule();
  const due = o.nextRunAt();
  assert.ok(
    due !== null && due - Date.now() > 3_500_000,
    "the new interval applies to the wait now under way",
  );
});
