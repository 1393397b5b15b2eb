/** Failover along a chain on 429, 5xx, refused connections and timeouts; key rotation; the breaker; tier marks in headers and ledger. */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { type TestContext, test } from "node:test";
import { createSimulator } from "../../src/sim/simulator.ts";
import { freePorts } from "../support/fleet.ts";
import { startGateway } from "../support/gateway.ts";

async function sim(t: TestContext, options: Parameters<typeof createSimulator>[0] = {}) {
  const s = createSimulator({ keys: { k1: {}, k2: {} }, ...options });
  const url = await s.start();
  t.after(() => s.close());
  return { sim: s, url };
}

function ask(url: string, key: string, body: Record<string, unknown> = {}) {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "main", messages: [{ role: "user", content: "hi" }], ...body }),
  });
}

function chainConfig(primaryUrl: string, secondaryUrl: string, extra = ""): string {
  process.env.FAILOVER_K1 = "k1";
  process.env.FAILOVER_K2 = "k2";
  return `version: 1
providers:
  - { id: first, kind: openai, baseUrl: ${primaryUrl}/v1, keys: [{ env: FAILOVER_K1 }], timeout: 300ms${extra} }
  - { id: second, kind: anthropic, baseUrl: ${secondaryUrl}, keys: [{ env: FAILOVER_K2 }] }
models:
  main: [{ provider: first, model: sim-large }, { provider: second, model: sim-small, tier: fallback }]
agents:
  - { name: coder, command: x, workspace: /tmp, model: main }
`;
}

for (const [name, fault] of [
  ["a 429", { status: 429 }],
  ["a 500", { status: 500 }],
  ["a timeout", { hangRate: 1 }],
] as const) {
  test(`${name} from the primary fails over to the fallback, and the tier says so`, async (t) => {
    const primary = await sim(t, { faults: fault });
    const secondary = await sim(t);
    const gw = await startGateway(t, chainConfig(primary.url, secondary.url));
    const res = await ask(gw.url, gw.key("coder"));
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get("x-flotilla-provider"), "second");
    assert.equal(res.headers.get("x-flotilla-tier"), "fallback");
    assert.equal(
      ((await res.json()) as { object: string }).object,
      "chat.completion",
      "translated back to the caller's protocol",
    );
    const events = gw.store.query({ kindPrefix: "gateway." });
    const request = events.find((e) => e.kind === "gateway.request");
    assert.equal(request?.data.tier, "fallback");
    assert.equal(request?.data.provider, "second");
    assert.ok(events.some((e) => e.kind === "gateway.failover"));
  });
}

test("a refused connection fails over; after three, the breaker skips the dead primary without calling it", async (t) => {
  const [deadPort = 0] = await freePorts(1);
  const secondary = await sim(t);
  const gw = await startGateway(t, chainConfig(`http://127.0.0.1:${deadPort}`, secondary.url));
  for (let i = 0; i < 3; i++)
    assert.equal((await ask(gw.url, gw.key("coder"))).headers.get("x-flotilla-provider"), "second");
  // Now something listens on the dead port and counts connections: an open breaker must not call it.
  let connections = 0;
  const spy = createServer((socket) => {
    connections++;
    socket.destroy();
  }).listen(deadPort, "127.0.0.1");
  t.after(() => spy.close());
  const timings: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    const res = await ask(gw.url, gw.key("coder"));
    timings.push(performance.now() - started);
    assert.equal(res.headers.get("x-flotilla-tier"), "fallback");
  }
  assert.equal(connections, 0, "the open breaker kept requests away from the dead primary");
  const served = gw.store.query({ kind: "gateway.request", limit: 1000 });
  assert.equal(served.length, 23);
  assert.ok(
    served.every((e) => e.data.tier === "fallback" && e.data.provider === "second"),
    "the ledger marks every answer as the fallback's",
  );
  assert.equal(gw.store.query({ kind: "gateway.failover", limit: 1000 }).length, 23);
  const attempts = gw.store.query({ kind: "gateway.attempt_failed", limit: 1000 });
  assert.equal(attempts.length, 3);
  process.stdout.write(
    `# breaker open: median request ${timings.sort((a, b) => a - b)[10]?.toFixed(2)} ms through the fallback\n`,
  );
});

test("a 429 cools its key down for Retry-After and rotates to the provider's next key", async (t) => {
  const upstream = await sim(t, { keys: { k1: { rpm: 1 }, k2: {} } });
  // Someone else used k1's only request this minute: the gateway's first try with it gets a real 429.
  await fetch(`${upstream.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer k1", "content-type": "application/json" },
    body: JSON.stringify({ model: "x", messages: [{ role: "user", content: "x" }] }),
  });
  process.env.ROT_K1 = "k1";
  process.env.ROT_K2 = "k2";
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - { id: pool, kind: openai, baseUrl: ${upstream.url}/v1, keys: [{ env: ROT_K1 }, { env: ROT_K2 }] }
models:
  main: [{ provider: pool, model: sim-large }]
agents:
  - { name: coder, command: x, workspace: /tmp, model: main }
`,
  );
  for (let i = 0; i < 3; i++) assert.equal((await ask(gw.url, gw.key("coder"))).status, 200);
  const cooldowns = gw.store.query({ kind: "gateway.key_cooldown" });
  assert.equal(cooldowns.length, 1, "k1's 429 cooled it down once");
  assert.equal(cooldowns[0]?.data.key, 0);
  assert.ok(Number(cooldowns[0]?.data.forMs) > 1000, "for the Retry-After the simulator sent");
  const stats = upstream.sim.stats();
  assert.equal(stats.byKey.k1?.rateLimited, 1, "one 429, then k1 was left alone");
  assert.equal(stats.byKey.k2?.ok, 3, "every request was served by k2");
});

test("limits learned from rate-limit headers keep a key from ever answering 429", async (t) => {
  const upstream = await sim(t, { keys: { k1: { rpm: 1 }, k2: {} } });
  process.env.LEARN_K1 = "k1";
  process.env.LEARN_K2 = "k2";
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - { id: pool, kind: openai, baseUrl: ${upstream.url}/v1, keys: [{ env: LEARN_K1 }, { env: LEARN_K2 }] }
models:
  main: [{ provider: pool, model: sim-large }]
agents:
  - { name: coder, command: x, workspace: /tmp, model: main }
`,
  );
  for (let i = 0; i < 4; i++) assert.equal((await ask(gw.url, gw.key("coder"))).status, 200);
  const stats = upstream.sim.stats();
  assert.equal(stats.rateLimited, 0, "remaining=0 in k1's first answer was enough");
  assert.equal(stats.byKey.k1?.ok, 1);
  assert.equal(stats.byKey.k2?.ok, 3);
});

test("a rejected key is marked dead and the next key serves", async (t) => {
  const upstream = await sim(t, { keys: { good: {} } });
  process.env.DEAD_K1 = "revoked";
  process.env.DEAD_K2 = "good";
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - { id: pool, kind: openai, baseUrl: ${upstream.url}/v1, keys: [{ env: DEAD_K1 }, { env: DEAD_K2 }] }
models:
  main: [{ provider: pool, model: sim-large }]
agents:
  - { name: coder, command: x, workspace: /tmp, model: main }
`,
  );
  assert.equal((await ask(gw.url, gw.key("coder"))).status, 200);
  assert.equal((await ask(gw.url, gw.key("coder"))).status, 200);
  const dead = gw.store.query({ kind: "gateway.key_dead" });
  assert.equal(dead.length, 1, "marked dead once, then skipped");
  assert.equal(
    upstream.sim.stats().byKey.revoked,
    undefined,
    "the simulator never counted the unknown key as a request",
  );
});
