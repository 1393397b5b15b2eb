/** OAuth2 refresh-token providers: one refresh in flight per credential, refreshed before expiry, rotation kept, refusals retire the key. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { createSimulator } from "../../src/sim/simulator.ts";
import { waitFor } from "../support/fleet.ts";
import { startGateway } from "../support/gateway.ts";

const REFRESH_TOKEN = "rt-7f3a9c2e1b5d4f6a8c0e2b4d6f8a0c2e";
const CLIENT_SECRET = "cs-0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a";

async function setup(t: TestContext, presented: string) {
  const sim = createSimulator({
    keys: {},
    oauth: { refreshTokens: { [REFRESH_TOKEN]: {} }, accessTokenTtlSec: 2, rotate: true, delayMs: 100 },
  });
  const url = await sim.start();
  t.after(() => sim.close());
  process.env.OAUTH_REFRESH = presented;
  process.env.OAUTH_CLIENT_SECRET = CLIENT_SECRET;
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - id: claude-oauth
    kind: anthropic
    baseUrl: ${url}
    keys: [{ env: OAUTH_REFRESH }]
    auth: { kind: oauth2, tokenUrl: ${url}/oauth/token, clientId: flotilla, clientSecret: { env: OAUTH_CLIENT_SECRET } }
models:
  main: [{ provider: claude-oauth, model: sim-large }]
agents:
  - { name: coder, command: x, workspace: /tmp, model: main }
`,
  );
  return { sim, gw };
}

function burst(gw: { url: string; key(agent: string): string }, n: number) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      fetch(`${gw.url}/v1/messages`, {
        method: "POST",
        headers: {
          "x-api-key": gw.key("coder"),
          "content-type": "application/json",
          "anthropic-version": "2023-06-01",
        },
        body: JSON.stringify({
          model: "main",
          max_tokens: 64,
          messages: [{ role: "user", content: `task ${i}` }],
        }),
      }).then(async (res) => ({ status: res.status, body: await res.text() })),
    ),
  );
}

test("many concurrent requests share one refresh; the token is refreshed before it expires; a rotated refresh token is kept", async (t) => {
  const { sim, gw } = await setup(t, REFRESH_TOKEN);
  const first = await burst(gw, 25);
  assert.deepEqual(new Set(first.map((r) => r.status)), new Set([200]), first[0]?.body);
  assert.equal(sim.stats().oauth.refreshes, 1, "25 concurrent requests, one refresh");
  // 1.1 s into a 2 s token: inside the refresh margin (half its life), still valid.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const second = await burst(gw, 25);
  assert.deepEqual(new Set(second.map((r) => r.status)), new Set([200]));
  // The background refresh started by the burst lands a moment later.
  await waitFor(
    () => gw.store.query({ kind: "gateway.token_refreshed" }).length === 2,
    "the background refresh",
  );
  const oauth = sim.stats().oauth;
  assert.equal(oauth.refreshes, 2, "one more refresh, before expiry, for the whole second burst");
  assert.equal(oauth.refused, 0, "the second refresh used the rotated refresh token");
  assert.equal(oauth.expiredUses, 0, "no request ever carried an expired access token");
  assert.equal(sim.stats().byKey[REFRESH_TOKEN]?.ok, 50);
  assert.equal(gw.store.query({ kind: "gateway.token_refreshed" }).length, 2);
  gw.store.flush();
  const ledger = readFileSync(join(gw.dir, "state", "ledger.db")).toString("latin1");
  for (const secret of [REFRESH_TOKEN, CLIENT_SECRET, "sim-at-", "sim-rt-"])
    assert.equal(ledger.includes(secret), false, `the ledger holds no ${secret.slice(0, 7)}…`);
});

test("a refused refresh token retires the key with events; the caller gets a clear 502 and no secret", async (t) => {
  const { sim, gw } = await setup(t, "rt-revoked-long-ago");
  const answers = await burst(gw, 5);
  for (const answer of answers) {
    assert.equal(answer.status, 502, answer.body);
    assert.equal(
      (JSON.parse(answer.body) as { type: string }).type,
      "error",
      "in the caller's (Anthropic) format",
    );
    assert.equal(answer.body.includes("rt-revoked-long-ago"), false);
  }
  assert.equal(
    sim.stats().oauth.refused,
    1,
    "one refresh in flight, refused once; the key is not asked again",
  );
  const failed = gw.store.query({ kind: "gateway.token_refresh_failed" });
  assert.equal(failed.length, 1);
  assert.equal(failed[0]?.data.permanent, true);
  assert.match(String(failed[0]?.data.error), /invalid_grant/);
  const dead = gw.store.query({ kind: "gateway.key_dead" });
  assert.equal(dead.length, 1);
  assert.equal(dead[0]?.data.reason, "refresh_refused");
});
