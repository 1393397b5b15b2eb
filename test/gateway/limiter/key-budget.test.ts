/** One key's budget: exact minute and hour windows for requests and tokens, concurrency, cool-downs, learned limits. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createKeyBudget, parseResetDuration } from "../../../src/gateway/limiter/key-budget.ts";
import { createFakeClock } from "../../support/fake-clock.ts";

test("rpm 60 admits exactly 60 in a minute and says when the 61st fits", () => {
  const clock = createFakeClock();
  const budget = createKeyBudget({ rpm: 60 }, clock);
  for (let i = 0; i < 60; i++) {
    assert.deepEqual(budget.check(10), { ok: true });
    budget.acquire(10).release();
    clock.advance(500);
  }
  const refused = budget.check(10);
  assert.equal(refused.ok, false);
  assert.ok(!refused.ok && refused.reason === "rpm");
  assert.ok(
    !refused.ok && refused.waitMs === 30_000,
    "the first admission, 30 s ago, leaves the window in 30 s",
  );
  clock.advance(30_000);
  assert.deepEqual(budget.check(10), { ok: true });
});

test("tpm counts the estimate, and settle() replaces it with the real usage", () => {
  const clock = createFakeClock();
  const budget = createKeyBudget({ tpm: 1000 }, clock);
  const lease = budget.acquire(900);
  assert.equal(budget.check(200).ok, false);
  lease.settle(300);
  assert.deepEqual(budget.check(200), { ok: true }, "an overestimate gives tokens back");
  const under = budget.acquire(100);
  under.settle(700);
  assert.equal(budget.check(1).ok, false, "an underestimate is charged in full");
  assert.ok(
    budget.check(5000).ok === false,
    "a request larger than the limit waits for an empty window, not forever",
  );
});

test("hour windows, concurrency and cool-downs", () => {
  const clock = createFakeClock();
  const budget = createKeyBudget({ rph: 2, concurrency: 1 }, clock);
  const a = budget.acquire(1);
  const busy = budget.check(1);
  assert.ok(!busy.ok && busy.reason === "concurrency" && busy.waitMs === Number.POSITIVE_INFINITY);
  let released = 0;
  budget.onRelease(() => released++);
  a.release();
  a.release();
  assert.equal(released, 1, "release is idempotent");
  budget.acquire(1).release();
  const hour = budget.check(1);
  assert.ok(!hour.ok && hour.reason === "rph" && hour.waitMs === 3_600_000);
  clock.advance(3_600_000);
  assert.ok(budget.check(1).ok);
  budget.cooldown(clock.now() + 5000, "rate_limited");
  const cool = budget.check(1);
  assert.ok(!cool.ok && cool.reason === "cooldown" && cool.waitMs === 5000);
  clock.advance(5000);
  assert.ok(budget.check(1).ok);
});

test("limits and remaining quota are learned from OpenAI and Anthropic headers", () => {
  const clock = createFakeClock();
  const openai = createKeyBudget({ rpm: 100 }, clock);
  const learned = openai.learn({
    "x-ratelimit-limit-requests": "50",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "6m0s",
  });
  assert.deepEqual(learned, { rpm: 50 }, "says what it tightened (the gateway records it)");
  assert.equal(openai.snapshot().limits.rpm, 50, "a lower real limit tightens the budget");
  assert.equal(
    openai.learn({ "x-ratelimit-limit-requests": "80" }),
    undefined,
    "a higher one changes nothing",
  );
  assert.equal(openai.snapshot().limits.rpm, 50);
  const waiting = openai.check(1);
  assert.ok(!waiting.ok && waiting.reason === "cooldown" && waiting.waitMs === 360_000);
  const anthropic = createKeyBudget({}, clock);
  anthropic.learn({
    "anthropic-ratelimit-tokens-limit": "40000",
    "anthropic-ratelimit-requests-remaining": "0",
    "anthropic-ratelimit-requests-reset": new Date(Date.now() + 20_000).toISOString(),
  });
  assert.equal(anthropic.snapshot().limits.tpm, 40_000);
  const cooled = anthropic.check(1);
  assert.ok(!cooled.ok && cooled.waitMs > 18_000 && cooled.waitMs <= 20_000);
  assert.equal(parseResetDuration("1.5s"), 1500);
  assert.equal(parseResetDuration("20ms"), 20);
  assert.equal(parseResetDuration("1h2m3s"), 3_723_000);
  assert.equal(parseResetDuration("soon"), undefined);
});

test("remaining quota is an allowance: a key shared with others stops when the provider's count runs out", () => {
  const clock = createFakeClock();
  const budget = createKeyBudget({ rpm: 100 }, clock);
  const inFlight = budget.acquire(10); // the request whose answer carries the headers
  budget.acquire(10); // another one, sent before that answer came back
  budget.learn({ "x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "30s" });
  inFlight.release();
  assert.deepEqual(budget.check(10), { ok: true });
  budget.acquire(10).release();
  assert.deepEqual(budget.check(10), { ok: true }, "3 left, minus the other one in flight: 2 more");
  budget.acquire(10).release();
  const spent = budget.check(10);
  assert.ok(!spent.ok && spent.reason === "cooldown" && spent.waitMs === 30_000, JSON.stringify(spent));
  clock.advance(30_000);
  assert.deepEqual(budget.check(10), { ok: true }, "the provider's window reset");
});
