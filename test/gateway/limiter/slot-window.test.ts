/** The slotted window against an exact log: never counts less, never says "fits" early, and is never later than one slot. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SlotWindow } from "../../../src/gateway/limiter/slot-window.ts";

/** The exact answer: every admission kept with its time. */
function exactLog(spanMs: number) {
  const log: { at: number; tokens: number }[] = [];
  const live = (now: number) => log.filter((e) => e.at + spanMs > now);
  return {
    add: (at: number, tokens: number) => log.push({ at, tokens }),
    used: (now: number, byTokens: boolean) =>
      live(now).reduce((sum, e) => sum + (byTokens ? e.tokens : 1), 0),
    waitFor(now: number, need: number, byTokens: boolean) {
      if (need <= 0) return 0;
      let freed = 0;
      for (const e of live(now)) {
        freed += byTokens ? e.tokens : 1;
        if (freed >= need) return e.at + spanMs - now;
      }
      return spanMs;
    },
  };
}

let seed = 11;
const random = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return (seed >>> 16) % n;
};

test("over random bursts and gaps the window counts at least the exact log and waits at most one slot longer", () => {
  const spanMs = 10_000;
  const slotMs = 100;
  const window = new SlotWindow(spanMs, slotMs);
  const exact = exactLog(spanMs);
  let now = 5_000_000;
  let later = 0;
  for (let step = 0; step < 4000; step++) {
    now += [0, 1, 7, 50, 99, 100, 250, 3000, 12_000][random(9)] as number;
    if (random(3) > 0) {
      const tokens = 1 + random(500);
      window.add(now, tokens);
      exact.add(now, tokens);
    }
    window.expire(now);
    for (const byTokens of [false, true]) {
      const used = byTokens ? window.tokens : window.requests;
      assert.ok(used >= exact.used(now, byTokens), `never counts less (step ${step})`);
      const need = 1 + random(byTokens ? 3000 : 12);
      const slotted = window.waitFor(now, need, byTokens);
      const truth = exact.waitFor(now, need, byTokens);
      assert.ok(slotted >= truth, `never fits early: ${slotted} < ${truth} (step ${step})`);
      assert.ok(slotted <= truth + slotMs, `late by under a slot: ${slotted} vs ${truth} (step ${step})`);
      if (slotted > truth) later++;
    }
  }
  assert.ok(later > 0, "bursts within one slot did happen, so the bound was exercised");
});

test("a million admissions in a minute take no more room than the slots, and all leave on time", () => {
  const window = new SlotWindow(60_000, 100);
  const start = 1_000_000;
  for (let i = 0; i < 1_000_000; i++) window.add(start + Math.floor(i * 0.06), 2);
  const end = start + 59_999;
  assert.equal(window.requests, 1_000_000);
  assert.equal(window.tokens, 2_000_000);
  const seq = window.add(end, 10);
  window.adjust(seq, 5);
  assert.equal(window.tokens, 2_000_015, "a settle adjusts a live slot");
  window.expire(end + 60_000);
  assert.equal(window.requests, 0);
  assert.equal(window.tokens, 0);
  window.adjust(seq, 100);
  assert.equal(window.tokens, 0, "a settle after the slot left changes nothing");
});
