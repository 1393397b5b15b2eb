/**
 * Delivery through the durable queue against real receivers on 127.0.0.1: a 500, a hang and a receiver
 * that is down are retried with backoff until delivered (also after the notifier's process was killed),
 * a repeat is throttled, severities below a channel's are skipped, and a full queue drops with a record.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { FlotillaConfig } from "../../src/config/schema.ts";
import { backoffMs } from "../../src/alerts/dispatcher.ts";
import { createNotifier } from "../../src/oversight/notifier.ts";
import { freePorts, NODE, waitFor } from "../support/fleet.ts";
import { configOf, finding, notifierState } from "../support/notifier.ts";
import { startReceiver } from "../support/receiver.ts";

const FIXTURE = fileURLToPath(new URL("fixtures/notify-once.ts", import.meta.url));

function hookConfig(dir: string, extra = ""): FlotillaConfig {
  return configOf(dir, `alerts:\n  - { id: hook, kind: webhook, url: { env: HOOK }${extra} }\n`);
}

test("backoff doubles from the base and stops at the ceiling", () => {
  const settings = { retryBaseMs: 1000, retryMaxMs: 5000 };
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => backoffMs(n, settings)),
    [1000, 2000, 4000, 5000, 5000],
  );
});

test("a receiver that answers 500 gets the alert on a later attempt, with each failure recorded", async (t) => {
  const receiver = await startReceiver(t, (n) => (n < 2 ? { status: 500, body: "boom" } : { status: 200 }));
  const { dir, stateDir, ledger } = notifierState(t);
  const config = hookConfig(dir);
  const notifier = createNotifier({
    config: () => config,
    stateDir,
    ledger,
    secrets: { HOOK: `${receiver.url}/in` },
    dispatch: { retryBaseMs: 30 },
  });
  t.after(() => notifier.close());
  const report = await notifier.notify([finding()], { id: 1 });
  assert.equal(report.alerts.failed, 1);
  await waitFor(() => ledger.query({ kind: "alert.delivered" })[0], "the alert to be delivered");
  assert.equal(receiver.received.length, 3);
  const failed = ledger.query({ kind: "alert.failed" }).map((e) => e.data);
  assert.deepEqual(
    failed.map((d) => [d.attempt, d.error, d.retryInMs]),
    [
      [1, "alerts.hook: the receiver answered 500", 30],
      [2, "alerts.hook: the receiver answered 500", 60],
    ],
  );
  assert.equal(ledger.query({ kind: "alert.delivered" })[0]?.data.attempts, 3);
});

test("a receiver that hangs is given up on at the channel's timeout and retried", async (t) => {
  const receiver = await startReceiver(t, (n) => (n === 0 ? "hang" : { status: 200 }));
  const { dir, stateDir, ledger } = notifierState(t);
  const config = hookConfig(dir, ", timeout: 300ms");
  const notifier = createNotifier({
    config: () => config,
    stateDir,
    ledger,
    secrets: { HOOK: `${receiver.url}/in` },
    dispatch: { retryBaseMs: 30 },
  });
  t.after(() => notifier.close());
  const started = Date.now();
  const report = await notifier.notify([finding()], { id: 1 });
  assert.equal(report.alerts.failed, 1);
  assert.ok(Date.now() - started < 5_000, "notify waited for the hang only up to the timeout");
  assert.equal(ledger.query({ kind: "alert.failed" })[0]?.data.error, "alerts.hook: no answer within 300 ms");
  await waitFor(() => ledger.query({ kind: "alert.delivered" })[0], "the retry to be delivered");
  assert.equal(receiver.received.length, 2);
});

test("a receiver that is down gets the alert once it is back, after the notifier's process was killed", async (t) => {
  const [port = 0] = await freePorts(1);
  const { dir, stateDir, ledger } = notifierState(t);
  const config = hookConfig(dir);
  const secrets = { HOOK: `http://127.0.0.1:${port}/in` };
  const sent = finding({ severity: "critical" });
  const input = join(dir, "input.json");
  writeFileSync(input, JSON.stringify({ config, stateDir, secrets, findings: [sent], retryBaseMs: 200 }));
  const child = spawn(NODE, [FIXTURE, input], { stdio: ["ignore", "pipe", "inherit"] });
  t.after(() => child.kill("SIGKILL"));
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  await waitFor(() => out.includes("\n"), "the first daemon to notify");
  const first = JSON.parse(out) as { alerts: { queued: number; failed: number } };
  assert.deepEqual([first.alerts.queued, first.alerts.failed], [1, 1]);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  assert.match(String(ledger.query({ kind: "alert.failed" })[0]?.data.error), /connection refused/);

  const receiver = await startReceiver(t, () => ({ status: 200 }), port);
  // A new notifier on the same state dir: no notify call, the queue it finds is delivered on its own.
  const notifier = createNotifier({ config: () => config, stateDir, ledger, secrets });
  t.after(() => notifier.close());
  await waitFor(() => receiver.received[0], "the queued alert to reach the receiver", 30_000);
  assert.equal((receiver.received[0]?.json as { finding: { id: string } }).finding.id, sent.id);
  await waitFor(() => ledger.query({ kind: "alert.delivered" })[0], "the delivery to be recorded");
  assert.equal(receiver.received.length, 1);
});

test("the same finding is throttled per channel and the next alert counts what was held back; lower severities are skipped", async (t) => {
  const receiver = await startReceiver(t);
  const { dir, stateDir, ledger } = notifierState(t);
  const config = configOf(
    dir,
    `oversight: { alerts: [hook, crit] }
alerts:
  - { id: hook, kind: webhook, url: { env: HOOK }, throttle: 30m }
  - { id: crit, kind: webhook, url: { env: HOOK }, minSeverity: critical }
  - { id: unused, kind: webhook, url: { env: HOOK } }
`,
  );
  let clock = 1_800_000_000_000;
  const notifier = createNotifier({
    config: () => config,
    stateDir,
    ledger,
    secrets: { HOOK: `${receiver.url}/in` },
    now: () => clock,
  });
  t.after(() => notifier.close());
  const repeated = finding();
  const first = await notifier.notify([repeated], { id: 1 });
  assert.deepEqual(first.alerts, { queued: 1, throttled: 0, belowSeverity: 1, delivered: 1, failed: 0 });
  clock += 60_000;
  const second = await notifier.notify([repeated], { id: 2 });
  assert.deepEqual(second.alerts, { queued: 0, throttled: 1, belowSeverity: 1, delivered: 0, failed: 0 });
  clock += 60_000;
  const other = finding();
  const third = await notifier.notify([repeated, other], { id: 3 });
  assert.deepEqual([third.alerts.queued, third.alerts.throttled], [1, 1]);
  clock += 30 * 60_000;
  const fourth = await notifier.notify([repeated], { id: 4 });
  assert.equal(fourth.alerts.queued, 1);
  const bodies = receiver.received.map(
    (r) => r.json as { finding: { id: string }; repeats: number; run: number },
  );
  assert.deepEqual(
    bodies.map((b) => [b.finding.id, b.run, b.repeats]),
    [
      [repeated.id, 1, 0],
      [other.id, 3, 0],
      [repeated.id, 4, 2],
    ],
  );
  // An acknowledged finding is not alerted at all.
  clock += 60 * 60_000;
  const acked = await notifier.notify([{ ...repeated, state: "acknowledged" }], { id: 5 });
  assert.equal(acked.alerts.queued, 0);
});

test("the queue is bounded: past maxQueued the oldest alert is dropped and the drop recorded", async (t) => {
  const [port = 0] = await freePorts(1);
  const { dir, stateDir, ledger } = notifierState(t);
  let config = hookConfig(dir);
  const notifier = createNotifier({
    config: () => config,
    stateDir,
    ledger,
    secrets: { HOOK: `http://127.0.0.1:${port}/in` },
    dispatch: { maxQueued: 3, retryBaseMs: 60_000 },
  });
  t.after(() => notifier.close());
  const findings = [finding(), finding(), finding(), finding(), finding()];
  await notifier.notify(findings, { id: 1 });
  const dropped = ledger.query({ kind: "alert.dropped" }).map((e) => [e.data.finding, e.data.reason]);
  assert.deepEqual(dropped, [
    [findings[0]?.id, "the queue is full (3 alerts)"],
    [findings[1]?.id, "the queue is full (3 alerts)"],
  ]);
  // One failure holds back the channel's other alerts too: its receiver is down for all of them.
  assert.equal(ledger.query({ kind: "alert.failed" }).length, 1);
  const queued = new DatabaseSync(join(stateDir, "alerts.db"), { readOnly: true });
  const rows = queued.prepare("SELECT attempts, next_at FROM queue ORDER BY id").all() as Array<{
    attempts: number;
    next_at: number;
  }>;
  queued.close();
  assert.deepEqual(
    rows.map((r) => r.attempts),
    [1, 0, 0],
  );
  assert.ok(
    rows.every((r) => r.next_at > Date.now() + 30_000),
    "every alert of the channel waits for the backoff",
  );
  // A channel taken out of the config drops what it had queued, with a record.
  config = configOf(dir, "alerts: []\n");
  const later = createNotifier({
    config: () => config,
    stateDir,
    ledger,
    secrets: {},
  });
  await notifier.close();
  t.after(() => later.close());
  await waitFor(
    () => ledger.query({ kind: "alert.dropped" }).length === 5,
    "the removed channel's alerts to be dropped",
  );
  assert.equal(
    ledger.query({ kind: "alert.dropped" })[4]?.data.reason,
    "the channel is no longer in the config",
  );
});

test("a run with more alerts than one pass takes delivers them all before notify returns", async (t) => {
  const receiver = await startReceiver(t);
  const { dir, stateDir, ledger } = notifierState(t);
  const config = hookConfig(dir);
  const notifier = createNotifier({
    config: () => config,
    stateDir,
    ledger,
    secrets: { HOOK: `${receiver.url}/in` },
    dispatch: { batch: 2 },
  });
  t.after(() => notifier.close());
  const report = await notifier.notify([finding(), finding(), finding(), finding(), finding()], { id: 1 });
  assert.deepEqual([report.alerts.queued, report.alerts.delivered], [5, 5]);
  assert.equal(receiver.received.length, 5);
});
