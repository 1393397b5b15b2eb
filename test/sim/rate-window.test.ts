/** The simulator's per-key windows against a plain reference: the whole log filtered on every check. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createRateWindow } from "../../src/sim/rate-window.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** The obvious exact answer: count what is inside each span from the full log, every time. */
function reference(limits: { rpm?: number; tpm?: number; rph?: number; tph?: number }) {
  const log: Array<{ at: number; tokens: number }> = [];
  const inside = (span: number, t: number) => log.filter((h) => h.at > t - span);
  const checks = [
    [limits.rpm, MINUTE, "requests"],
    [limits.tpm, MINUTE, "tokens"],
    [limits.rph, HOUR, "requests"],
    [limits.tph, HOUR, "tokens"],
  ] as const;
  return {
    take(tokens: number, t: number) {
      for (const [max, span, kind] of checks) {
        if (max === undefined) continue;
        const hits = inside(span, t);
        const used = kind === "tokens" ? hits.reduce((sum, h) => sum + h.tokens, 0) : hits.length;
        if (used + (kind === "tokens" ? tokens : 1) > max) {
          const oldest = hits[0];
          return { ok: false, kind, retryAfterMs: Math.max(1, oldest ? oldest.at + span - t : 0) };
        }
      }
      log.push({ at: t, tokens });
      return { ok: true };
    },
    remaining(t: number) {
      const minute = inside(MINUTE, t);
      return {
        requests: limits.rpm === undefined ? undefined : Math.max(0, limits.rpm - minute.length),
        tokens:
          limits.tpm === undefined
            ? undefined
            : Math.max(0, limits.tpm - minute.reduce((sum, h) => sum + h.tokens, 0)),
        resetMs: minute[0] ? minute[0].at + MINUTE - t : 0,
      };
    },
  };
}

test("the windows agree with the full-log reference over random traffic, minutes and hours apart", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const cases = [
    { rpm: 30, tpm: 20_000 },
    { rph: 200, tph: 150_000 },
    { rpm: 50, tpm: 40_000, rph: 900, tph: 500_000 },
  ];
  let decisions = 0;
  for (const limits of cases) {
    let t = 1_000_000;
    const window = createRateWindow(limits, () => t);
    const model = reference(limits);
    for (let i = 0; i < 6000; i++) {
      // Mostly bursts a few ms apart, sometimes seconds, now and then most of an hour.
      const r = random();
      t +=
        r < 0.7
          ? Math.floor(random() * 50)
          : r < 0.98
            ? Math.floor(random() * 20_000)
            : Math.floor(random() * HOUR);
      const tokens = 1 + Math.floor(random() * 3000);
      const got = window.take(tokens);
      const want = model.take(tokens, t);
      assert.equal(got.ok, want.ok, `request ${i} at ${t}`);
      if (!got.ok && !want.ok) {
        assert.equal(got.kind, want.kind, `request ${i}: which limit`);
        assert.equal(got.retryAfterMs, want.retryAfterMs, `request ${i}: retry-after`);
      }
      if (got.ok) got.release();
      const state = window.state();
      const remaining = model.remaining(t);
      assert.equal(state.remainingRequests, remaining.requests, `request ${i}: remaining requests`);
      assert.equal(state.remainingTokens, remaining.tokens, `request ${i}: remaining tokens`);
      assert.equal(state.resetMs, remaining.resetMs, `request ${i}: reset`);
      decisions++;
    }
  }
  assert.equal(decisions, 18_000);
});
