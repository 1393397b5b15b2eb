/** Restart arithmetic: which exits restart, the backoff curve, and the burst window. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  backoffDelay,
  createBurstGuard,
  type RestartSettings,
  shouldRestart,
} from "../../src/supervisor/restart-policy.ts";

const settings: RestartSettings = {
  policy: "on-failure",
  delay: 1000,
  maxDelay: 5000,
  burst: { count: 3, windowMs: 60_000 },
  resetAfter: 60_000,
};

test("on-failure restarts non-zero exits and signals, not clean exits; always and never do what they say", () => {
  assert.equal(shouldRestart("on-failure", { code: 0, signal: null }), false);
  assert.equal(shouldRestart("on-failure", { code: 1, signal: null }), true);
  assert.equal(shouldRestart("on-failure", { code: null, signal: "SIGKILL" }), true);
  assert.equal(shouldRestart("always", { code: 0, signal: null }), true);
  assert.equal(shouldRestart("never", { code: 1, signal: null }), false);
});

test("backoff doubles from delay and stops at maxDelay", () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((attempt) => backoffDelay(settings, attempt)),
    [1000, 2000, 4000, 5000, 5000],
  );
  assert.equal(
    backoffDelay({ ...settings, maxDelay: 10 }, 3),
    1000,
    "a maxDelay below delay never shortens the delay",
  );
});

test("the burst guard trips at count starts within the window and forgets old starts", () => {
  const guard = createBurstGuard(settings);
  guard.record(0);
  guard.record(10_000);
  assert.equal(guard.exceeded(20_000), false);
  guard.record(20_000);
  assert.equal(guard.exceeded(30_000), true);
  assert.equal(guard.exceeded(60_001), false, "the first start has left the window");
  guard.reset();
  assert.equal(guard.exceeded(60_002), false);
});
