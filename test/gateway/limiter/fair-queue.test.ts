/** The fair queue: round robin between agents, priority first, immediate refusal past the deadline, abort, one timer. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createBreaker } from "../../../src/gateway/limiter/breaker.ts";
import { createFairQueue, QueueTimeoutError } from "../../../src/gateway/limiter/fair-queue.ts";
import { createKeyBudget } from "../../../src/gateway/limiter/key-budget.ts";
import { createFakeClock } from "../../support/fake-clock.ts";

function setup(limits: Parameters<typeof createKeyBudget>[0]) {
  const clock = createFakeClock();
  const budget = createKeyBudget(limits, clock);
  const queue = createFairQueue({ clock, budgets: () => [budget] });
  return { clock, budget, queue };
}

test(
  "a chatty agent does not starve a quiet one: grants alternate between agents",
  { timeout: 10_000 },
  async () => {
    const { clock, queue } = setup({ rpm: 60 });
    const order: string[] = [];
    const deadline = clock.now() + 600_000;
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < 100; i++)
      all.push(
        queue
          .admit({ agent: "chatty", priority: 0, estTokens: 1, deadlineMs: deadline })
          .then(() => order.push("chatty")),
      );
    for (let i = 0; i < 10; i++)
      all.push(
        queue
          .admit({ agent: "quiet", priority: 0, estTokens: 1, deadlineMs: deadline })
          .then(() => order.push("quiet")),
      );
    await Promise.resolve();
    for (let s = 0; s < 130 && order.length < 110; s++) {
      clock.advance(1000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const firstQuiet = order.indexOf("quiet");
    const lastQuiet = order.lastIndexOf("quiet");
    assert.ok(firstQuiet >= 0 && firstQuiet <= 61, `the quiet agent waited behind ${firstQuiet} grants`);
    assert.ok(lastQuiet < 90, `the quiet agent's 10 requests were interleaved (last at ${lastQuiet})`);
    assert.equal(order.length, 110, "every request was served within its deadline");
    assert.equal(queue.depth(), 0);
  },
);

test(
  "higher priority goes first; a request that cannot fit its deadline is refused at once with retryAfterMs",
  { timeout: 10_000 },
  async () => {
    const { clock, queue, budget } = setup({ rpm: 1 });
    budget.acquire(1).release();
    const order: string[] = [];
    const long = clock.now() + 600_000;
    const low = queue
      .admit({ agent: "coder", priority: 0, estTokens: 1, deadlineMs: long })
      .then(() => order.push("coder"));
    const high = queue
      .admit({ agent: "coordinator", priority: 1, estTokens: 1, deadlineMs: long })
      .then(() => order.push("coordinator"));
    await assert.rejects(
      queue.admit({ agent: "qa", priority: 0, estTokens: 1, deadlineMs: clock.now() + 1000 }),
      (err: unknown) => {
        assert.ok(err instanceof QueueTimeoutError);
        assert.equal(err.retryAfterMs, 60_000);
        return true;
      },
    );
    clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(60_000);
    await Promise.all([low, high]);
    assert.deepEqual(order, ["coordinator", "coder"]);
  },
);

test(
  "a waiter behind others is refused at its own deadline, even while no slot frees up",
  { timeout: 10_000 },
  async () => {
    const { clock, queue, budget } = setup({ concurrency: 1 });
    const held = budget.acquire(1);
    const patient = queue.admit({ agent: "a", priority: 0, estTokens: 1, deadlineMs: clock.now() + 60_000 });
    const hasty = queue.admit({ agent: "b", priority: 0, estTokens: 1, deadlineMs: clock.now() + 5_000 });
    let hastyDone = false;
    hasty.catch(() => {}).finally(() => (hastyDone = true));
    clock.advance(4_999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(hastyDone, false, "still waiting before its deadline");
    clock.advance(1);
    await assert.rejects(hasty, QueueTimeoutError);
    assert.equal(queue.depth(), 1);
    held.release();
    assert.equal((await patient).key, 0, "the slot goes to the one still waiting");
  },
);

test(
  "an aborted waiter leaves the queue; waiting uses one timer, not a poll",
  { timeout: 10_000 },
  async () => {
    const { clock, queue, budget } = setup({ rpm: 1 });
    budget.acquire(1).release();
    const abort = new AbortController();
    const deadline = clock.now() + 600_000;
    const waiting = queue.admit({
      agent: "a",
      priority: 0,
      estTokens: 1,
      deadlineMs: deadline,
      signal: abort.signal,
    });
    for (let i = 0; i < 5; i++)
      void queue.admit({ agent: `b${i}`, priority: 0, estTokens: 1, deadlineMs: deadline }).catch(() => {});
    assert.equal(clock.pending(), 1, "one timer for the earliest change");
    assert.equal(queue.depth(), 6);
    abort.abort();
    await assert.rejects(waiting, { name: "AbortError" });
    assert.equal(queue.depth(), 5);
    assert.deepEqual(queue.waitingByAgent(), { b0: 1, b1: 1, b2: 1, b3: 1, b4: 1 });
  },
);

test("the breaker opens after consecutive failures, lets one probe through after the cool-down, and doubles it on failure", () => {
  const clock = createFakeClock();
  const breaker = createBreaker({ failures: 3, cooldownMs: 1000, clock });
  breaker.failure();
  breaker.failure();
  assert.equal(breaker.allow(), true);
  breaker.failure();
  assert.equal(breaker.state(), "open");
  assert.equal(breaker.allow(), false);
  clock.advance(1000);
  assert.equal(breaker.allow(), true, "one probe");
  assert.equal(breaker.allow(), false, "only one");
  breaker.failure();
  clock.advance(1000);
  assert.equal(breaker.allow(), false, "the cool-down doubled to 2 s");
  clock.advance(1000);
  assert.equal(breaker.allow(), true);
  breaker.success();
  assert.equal(breaker.state(), "closed");
  assert.equal(breaker.allow(), true);
});
