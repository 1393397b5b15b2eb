/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY: a recording proxy on loopback sees the gateway's model calls and its
 * OAuth token refreshes, and nothing for a host NO_PROXY names. The gateway runs as a process of its own,
 * with those variables in its environment as an operator would set them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSimulator } from "../../src/sim/simulator.ts";
import { spawnGateway } from "../support/gateway-process.ts";
import { recordingProxy } from "../support/recording-proxy.ts";

const KEY = "sk-proxy-test-key";
const REFRESH_TOKEN = "rt-proxy-test-refresh";

test(
  "model calls and token refreshes go through HTTP_PROXY; a NO_PROXY host is reached directly",
  { timeout: 60_000 },
  async (t) => {
    const proxy = await recordingProxy(t);
    const sim = createSimulator({
      keys: { [KEY]: {} },
      oauth: { refreshTokens: { [REFRESH_TOKEN]: {} }, accessTokenTtlSec: 600 },
      latency: { firstTokenMs: 0, jitterMs: 0 },
    });
    const simUrl = await sim.start();
    t.after(() => sim.close());
    const port = new URL(simUrl).port;
    const gw = await spawnGateway(
      t,
      `version: 1
providers:
  - { id: proxied, kind: openai, baseUrl: http://127.0.0.1:${port}/v1, keys: [{ env: PROXY_TEST_KEY }] }
  - { id: direct, kind: openai, baseUrl: http://localhost:${port}/v1, keys: [{ env: PROXY_TEST_KEY }] }
  - id: oauth
    kind: anthropic
    baseUrl: http://127.0.0.1:${port}
    keys: [{ env: PROXY_TEST_REFRESH }]
    auth: { kind: oauth2, tokenUrl: http://127.0.0.1:${port}/oauth/token }
models:
  proxied: [{ provider: proxied, model: sim-small }]
  direct: [{ provider: direct, model: sim-small }]
  oauth: [{ provider: oauth, model: sim-small }]
agents:
  - { name: coder, command: x, workspace: /tmp }
`,
      {
        PROXY_TEST_KEY: KEY,
        PROXY_TEST_REFRESH: REFRESH_TOKEN,
        HTTP_PROXY: proxy.url,
        HTTPS_PROXY: proxy.url,
        NO_PROXY: "localhost",
      },
    );
    const call = async (model: string) => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${gw.key("coder")}`, "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, `${model}: ${text}`);
    };
    await call("direct");
    await call("direct");
    assert.deepEqual(proxy.seen, [], "NO_PROXY=localhost: nothing through the proxy");
    await call("proxied");
    await call("proxied");
    await call("oauth");
    t.diagnostic(`the proxy saw: ${proxy.seen.join(", ")}`);
    const origin = `http://127.0.0.1:${port}`;
    assert.deepEqual(proxy.seen, [
      `POST ${origin}/v1/chat/completions`,
      `POST ${origin}/v1/chat/completions`,
      `POST ${origin}/oauth/token`,
      `POST ${origin}/v1/messages`,
    ]);
    assert.equal(sim.stats().oauth.refreshes, 1);
    assert.equal(sim.stats().ok, 5);
  },
);
