/** The key budget's running window sums: they expire, settle and compact exactly like a full scan would. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Clock } from "../../../src/gateway/limiter/clock.ts";
import { createKeyBudget } from "../../../src/gateway/limiter/key-budget.ts";

function manualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    setTimeout: () => ({ cancel() {} }),
    advance(ms) {
      now += ms;
    },
  };
}

test("the minute's requests and tokens leave the window after a minute and the hour's after an hour", () => {
  const clock = manualClock();
  const budget = createKeyBudget({ rpm: 3, tpm: 1000, rph: 5 }, clock);
  for (let i = 0; i < 3; i++) budget.acquire(100).release();
  assert.deepEqual(budget.snapshot().minute, { requests: 3, tokens: 300 });
  const full = budget.check(10);
  assert.equal(full.ok, false);
  assert.equal(!full.ok && full.reason, "rpm");
  assert.equal(!full.ok && full.waitMs, 60_000, "the oldest of the three leaves in a minute");
  clock.advance(60_000);
  assert.deepEqual(budget.snapshot().minute, { requests: 0, tokens: 0 });
  assert.deepEqual(budget.snapshot().hour, { requests: 3, tokens: 300 });
  budget.acquire(100).release();
  budget.acquire(100).release();
  const hourFull = budget.check(10);
  assert.equal(!hourFull.ok && hourFull.reason, "rph");
  assert.equal(!hourFull.ok && hourFull.waitMs, 3_540_000, "the first leaves the hour 59 minutes from now");
  clock.advance(3_540_000);
  assert.equal(budget.check(10).ok, true);
  assert.deepEqual(budget.snapshot().hour, { requests: 2, tokens: 200 });
});

test("settling a lease replaces its estimate in the sums of the windows it is still in", () => {
  const clock = manualClock();
  const budget = createKeyBudget({ tpm: 1000, tph: 5000 }, clock);
  const first = budget.acquire(100);
  first.settle(700);
  assert.deepEqual(budget.snapshot().minute, { requests: 1, tokens: 700 });
  const over = budget.check(400);
  assert.equal(!over.ok && over.reason, "tpm");
  clock.advance(60_000);
  const late = budget.acquire(50);
  clock.advance(1);
  first.settle(900); // out of the minute by now: only the hour's sum changes
  late.settle(80);
  assert.deepEqual(budget.snapshot().minute, { requests: 1, tokens: 80 });
  assert.deepEqual(budget.snapshot().hour, { requests: 2, tokens: 980 });
});

test("a long log keeps exact counts across compaction", () => {
  const clock = manualClock();
  const budget = createKeyBudget({ rph: 1_000_000 }, clock);
  for (let i = 0; i < 5000; i++) {
    budget.acquire(1).release();
    clock.advance(1000); // one a second; the last was a second ago
  }
  assert.deepEqual(budget.snapshot().hour, { requests: 3599, tokens: 3599 });
  assert.deepEqual(budget.snapshot().minute, { requests: 59, tokens: 59 });
  clock.advance(3_600_000);
  assert.deepEqual(budget.snapshot().hour, { requests: 0, tokens: 0 });
});
