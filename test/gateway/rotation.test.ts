/** Key rotation: quota and billing errors disable a key for a while, 401/403 retire it, Retry-After(-Ms) cools it, headers teach limits. */
import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import { createSimulator } from "../../src/sim/simulator.ts";

import { waitFor } from "../support/fleet.ts";
import { startGateway } from "../support/gateway.ts";

type Kind = "openai" | "anthropic";

/** A simulator with keys k1 (scripted) and k2, and a gateway whose one provider holds both, k1 first. */
async function pool(
  t: TestContext,
  kind: Kind,
  k1: Record<string, unknown>,
  keys = ["k1", "k2"],
  latencyMs = 0,
) {
  const sim = createSimulator({ keys: { k1, k2: {} }, latency: { firstTokenMs: latencyMs } });
  const url = await sim.start();
  t.after(() => sim.close());
  const refs = keys.map((key, i) => {
    process.env[`ROTATION_${i}`] = key;
    return `{ env: ROTATION_${i} }`;
  });
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - { id: pool, kind: ${kind}, baseUrl: ${kind === "openai" ? `${url}/v1` : url}, keys: [${refs.join(", ")}], limits: { rpm: 100 } }
models:
  main: [{ provider: pool, model: sim-large }]
agents:
  - { name: coder, command: x, workspace: /tmp, model: main }
`,
  );
  return { sim, gw, url };
}

async function ask(gw: { url: string; key(agent: string): string }) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${gw.key("coder")}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "main", messages: [{ role: "user", content: "hi" }] }),
  });
  return { status: res.status, body: await res.text() };
}

for (const [kind, fault, what] of [
  ["openai", "quota", "OpenAI insufficient_quota (429)"],
  ["anthropic", "quota", "Anthropic's low credit balance (400)"],
  ["anthropic", "billing", "Anthropic billing_error (402)"],
  ["openai", "billing", "an OpenAI 402"],
] as const) {
  test(`${what} disables the key for a while, raises an event, and the next key serves`, async (t) => {
    const { sim, gw } = await pool(t, kind, { fault: { kind: fault } });
    for (let i = 0; i < 3; i++) assert.equal((await ask(gw)).status, 200);
    const disabled = gw.store.query({ kind: "gateway.key_disabled" });
    assert.equal(disabled.length, 1, "one rotation, then k1 is left alone");
    assert.equal(disabled[0]?.data.key, 0);
    assert.equal(disabled[0]?.data.forMs, 600_000, "out for ten minutes, not for a Retry-After");
    assert.equal(gw.store.query({ kind: "gateway.key_dead" }).length, 0, "a quota error is not a dead key");
    const stats = sim.stats();
    assert.equal(stats.byKey.k1?.requests, 1);
    assert.equal(stats.byKey.k2?.ok, 3);
  });
}

for (const [fault, status] of [
  ["revoked", 401],
  ["forbidden", 403],
] as const) {
  test(`a ${status} retires the key with an event; with no key left the caller gets a 502, not a 429`, async (t) => {
    const { sim, gw } = await pool(t, "anthropic", { fault: { kind: fault } }, ["k1"]);
    const first = await ask(gw);
    assert.equal(first.status, 502, first.body);
    const again = await ask(gw);
    assert.equal(again.status, 502);
    assert.match(again.body, /every key was rejected/);
    const dead = gw.store.query({ kind: "gateway.key_dead" });
    assert.equal(dead.length, 1);
    assert.deepEqual(
      { key: dead[0]?.data.key, reason: dead[0]?.data.reason, usable: dead[0]?.data.usable },
      { key: 0, reason: "rejected", usable: 0 },
    );
    assert.equal(sim.stats().byKey.k1?.requests, 1, "a retired key is never sent again");
  });
}

for (const [header, retryAfterMs, expected] of [
  ["ms", 300, 300],
  ["seconds", 300, 1000],
  ["both", 1500, 1500],
] as const) {
  test(`a 429 with ${header === "both" ? "both headers" : `only retry-after${header === "ms" ? "-ms" : ""}`} cools that key for ${expected} ms; the other key serves meanwhile`, async (t) => {
    const { sim, gw } = await pool(t, "openai", {
      fault: { kind: "rate_limited", times: 1, retryAfterMs, retryAfterHeader: header },
    });
    assert.equal((await ask(gw)).status, 200);
    assert.equal((await ask(gw)).status, 200);
    const cooled = gw.store.query({ kind: "gateway.key_cooldown" });
    assert.equal(cooled.length, 1);
    assert.equal(cooled[0]?.data.key, 0);
    assert.equal(cooled[0]?.data.forMs, expected);
    assert.equal(sim.stats().byKey.k2?.ok, 2, "k1 was cooling down");
    if (header === "ms") {
      const over = (cooled[0]?.ts ?? 0) + expected;
      await waitFor(() => Date.now() > over, "the end of k1's cool-down");
      assert.equal((await ask(gw)).status, 200);
      assert.equal(sim.stats().byKey.k1?.ok, 1, "k1 is back once its cool-down is over");
    }
  });
}

for (const kind of ["openai", "anthropic"] as const) {
  test(`${kind} rate-limit headers teach the real limit (an event) and the remaining quota (no 429)`, async (t) => {
    const { sim, gw } = await pool(t, kind, { rpm: 1 });
    for (let i = 0; i < 4; i++) assert.equal((await ask(gw)).status, 200);
    const stats = sim.stats();
    assert.equal(stats.rateLimited, 0, "remaining=0 in k1's first answer was enough");
    assert.equal(stats.byKey.k1?.ok, 1);
    assert.equal(stats.byKey.k2?.ok, 3);
    const learned = gw.store.query({ kind: "gateway.limits_learned" });
    assert.equal(learned.length, 1, "learned once: the configured rpm 100 became the real 1");
    assert.deepEqual({ key: learned[0]?.data.key, rpm: learned[0]?.data.rpm }, { key: 0, rpm: 1 });
  });
}

test("a key shared with someone else: the remaining count in its answers keeps a burst from meeting 429s", async (t) => {
  // 100 ms answers: the whole burst is admitted before any of its answers (and their headers) is back.
  const { sim, gw, url } = await pool(t, "openai", { rpm: 6 }, ["k1", "k2"], 100);
  // Someone outside Flotilla uses three of k1's six requests this minute.
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer k1", "content-type": "application/json" },
      body: JSON.stringify({ model: "x", messages: [{ role: "user", content: "outside" }] }),
    });
    assert.equal(res.status, 200);
  }
  assert.equal((await ask(gw)).status, 200, "k1's answer: limit 6, remaining 2");
  const burst = await Promise.all(Array.from({ length: 6 }, () => ask(gw)));
  assert.deepEqual(
    burst.map((r) => r.status),
    [200, 200, 200, 200, 200, 200],
  );
  const stats = sim.stats();
  assert.equal(stats.rateLimited, 0, "the gateway spent k1's stated allowance, then used k2");
  assert.equal(
    stats.byKey.k1?.ok,
    6,
    "all six of k1's requests were used: three outside, three by the gateway",
  );
  assert.equal(stats.byKey.k2?.ok, 4);
});
