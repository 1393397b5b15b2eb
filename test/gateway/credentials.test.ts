/** One OAuth2 credential against the simulator's token endpoint, on a fake clock: refresh margin, single flight, renewal after a 401. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { oauthCredential } from "../../src/gateway/credentials.ts";
import { createSimulator } from "../../src/sim/simulator.ts";
import { createFakeClock } from "../support/fake-clock.ts";
import { waitFor } from "../support/fleet.ts";

test("an access token is fetched once for concurrent callers, refreshed in the background inside the margin, and renewed after a 401 unless fresh", async (t) => {
  const sim = createSimulator({ keys: {}, oauth: { refreshTokens: { "rt-1": {} }, accessTokenTtlSec: 600 } });
  const url = await sim.start();
  t.after(() => sim.close());
  const clock = createFakeClock();
  const events: string[] = [];
  const credential = oauthCredential(
    { tokenUrl: `${url}/oauth/token`, clientId: "flotilla", refreshBefore: 60_000 },
    "rt-1",
    clock,
    (kind) => events.push(kind),
  );
  const first = await Promise.all(Array.from({ length: 10 }, () => credential.current()));
  assert.equal(new Set(first).size, 1, "ten callers, one token");
  assert.equal(sim.stats().oauth.refreshes, 1);
  const token = first[0] as string;
  assert.equal(credential.current(), token, "a valid token is handed out at once, not as a promise");

  clock.advance(540_001); // 600 s token, 60 s margin: inside it
  assert.equal(credential.current(), token, "still valid: used while the refresh runs in the background");
  assert.equal(credential.current(), token);
  const second = await waitFor(() => {
    const now = credential.current();
    return now !== token && now;
  }, "the background refresh's new token");
  assert.equal(sim.stats().oauth.refreshes, 2, "one background refresh for both callers");
  assert.equal(typeof second, "string");
  assert.notEqual(second, token);

  assert.equal(credential.renew(token), true, "a 401 on an old token: a newer one is at hand already");
  assert.equal(
    credential.renew(second as string),
    false,
    "a 401 on a token issued just now: the credential is bad",
  );
  clock.advance(10_000);
  assert.equal(credential.renew(second as string), true, "a 401 on a 10 s old token: refresh and retry");
  const third = await credential.current();
  assert.notEqual(third, second);
  assert.equal(sim.stats().oauth.refreshes, 3);
  assert.deepEqual(events, ["gateway.token_refreshed", "gateway.token_refreshed", "gateway.token_refreshed"]);
});

test("a failing background refresh keeps the valid token in use and is retried after a pause, not on every request", async (t) => {
  const sim = createSimulator({ keys: {}, oauth: { refreshTokens: { "rt-1": {} }, accessTokenTtlSec: 600 } });
  const url = await sim.start();
  t.after(() => sim.close());
  const clock = createFakeClock();
  const failures: unknown[] = [];
  const credential = oauthCredential(
    { tokenUrl: `${url}/oauth/token`, refreshBefore: 60_000 },
    "rt-1",
    clock,
    (kind, data) => kind === "gateway.token_refresh_failed" && failures.push(data),
  );
  const token = await credential.current();
  await sim.close(); // the token endpoint goes away
  clock.advance(550_000);
  assert.equal(credential.current(), token);
  await waitFor(() => failures.length === 1, "the failed background refresh");
  for (let i = 0; i < 20; i++) assert.equal(credential.current(), token, "the still-valid token is used");
  clock.advance(5_000);
  credential.current();
  // Attempts made by the 20 calls above would fail before this one, which comes after the pause.
  await waitFor(() => failures.length >= 2, "the retry after the pause");
  assert.equal(failures.length, 2, "tried again after the pause, and not once per request before it");
  assert.deepEqual(failures[0], { error: "token endpoint unreachable (ECONNREFUSED)", permanent: false });
});
