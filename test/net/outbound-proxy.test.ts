/**
 * Flotilla's own calls to the outside world take HTTPS_PROXY / HTTP_PROXY as the gateway's model calls do:
 * a recording proxy on loopback sees an alert delivery, GitHub's API and the watchdog's diagnosis model, and
 * nothing for a NO_PROXY host or an injection into an agent (the fleet's own process).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { alertOf } from "../../src/alerts/alert.ts";
import { channelSender } from "../../src/alerts/channels/channel.ts";
import { postJson } from "../../src/alerts/post-json.ts";
import type { AlertChannelConfig } from "../../src/config/schema.ts";
import { githubCi } from "../../src/oversight/ci/github.ts";
import { createSimulator } from "../../src/sim/simulator.ts";
import { callDiagnosisModel } from "../../src/watchdog/diagnose/model-client.ts";
import { diagnosisFleet } from "../support/diagnosis.ts";
import { finding } from "../support/notifier.ts";
import { recordingProxy } from "../support/recording-proxy.ts";
import { outboundFetch, useProxySettings } from "../../src/net/outbound.ts";

/** A receiver that answers every request with `{}` and counts them. */
async function receiver(t: TestContext) {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(req.url?.includes("/check-runs") ? '{"check_runs":[]}' : '{"statuses":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as AddressInfo;
  return { port, hits: () => hits };
}

/** HTTP_PROXY (and NO_PROXY) for this test only; the proxy-aware dispatcher reads them when it is made. */
function withProxy(t: TestContext, proxy: string, noProxy: string): void {
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
  process.env.HTTP_PROXY = proxy;
  process.env.NO_PROXY = noProxy;
  t.after(() => {
    for (const [name, value] of Object.entries(saved))
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  });
}

test("alerts, GitHub and the diagnosis model go through HTTP_PROXY; NO_PROXY hosts and injections do not", async (t) => {
  const proxy = await recordingProxy(t);
  withProxy(t, proxy.url, "localhost");
  const target = await receiver(t);
  const sim = createSimulator({ keys: { "key-a": {} }, script: [{ reply: "ok" }] });
  const simUrl = await sim.start();
  t.after(() => sim.close());

  const webhook = channelSender(
    { id: "ops", kind: "webhook", url: { env: "HOOK_URL" }, timeout: 5000 } as AlertChannelConfig,
    { secrets: { HOOK_URL: `http://127.0.0.1:${target.port}/hook` }, writeStdout: () => {} },
  );
  await webhook(alertOf(finding(), 1, []), AbortSignal.timeout(5000));
  assert.ok(proxy.seen.includes(`POST http://127.0.0.1:${target.port}/hook`), proxy.seen.join("; "));

  const ci = await githubCi(
    { apiUrl: `http://127.0.0.1:${target.port}`, repo: "o/app", token: "t" },
    "0123456789abcdef",
  );
  assert.equal(ci.state, "none", ci.detail);
  assert.ok(
    proxy.seen.some((line) => line.startsWith(`GET http://127.0.0.1:${target.port}/repos/o/app/commits/`)),
    proxy.seen.join("; "),
  );

  const { config } = diagnosisFleet(
    t,
    `providers:
  - { id: first, kind: openai, baseUrl: ${simUrl}/v1, keys: [{ env: WD_KEY_A }] }
models:
  healer: [{ provider: first, model: sim-small }]
watchdog: { model: healer }
`,
  );
  const { result } = await callDiagnosisModel(
    config,
    { WD_KEY_A: "key-a" },
    { system: "s", user: "u" },
    5000,
  );
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.ok(proxy.seen.includes(`POST ${simUrl}/v1/chat/completions`), proxy.seen.join("; "));

  const before = proxy.seen.length;
  const hits = target.hits();
  await postJson(
    `http://localhost:${target.port}/hook`,
    { text: "alert" },
    {
      where: "alerts.ops",
      timeoutMs: 5000,
      outside: true,
    },
  );
  await postJson(
    `http://127.0.0.1:${target.port}/inject`,
    { text: "note" },
    {
      where: "oversight.inject",
      timeoutMs: 5000,
    },
  );
  assert.equal(target.hits(), hits + 2, "both reached the receiver");
  assert.equal(proxy.seen.length, before, "a NO_PROXY host and an injection go direct");
});

test("settings handed over on stdin (the daemon's, the embedded watchdog's) stand in for an environment without a proxy", async (t) => {
  const proxy = await recordingProxy(t);
  const target = await receiver(t);
  const saved = process.env.HTTP_PROXY;
  delete process.env.HTTP_PROXY;
  t.after(() => {
    useProxySettings(undefined);
    if (saved !== undefined) process.env.HTTP_PROXY = saved;
  });
  const url = `http://127.0.0.1:${target.port}/repos/o/app/commits/1/status`;
  await (await outboundFetch(url, {})).text();
  assert.equal(proxy.seen.length, 0, "no proxy anywhere: direct");
  useProxySettings({ HTTP_PROXY: proxy.url });
  await (await outboundFetch(url, {})).text();
  assert.deepEqual(proxy.seen, [`GET ${url}`]);
  useProxySettings({ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" });
  await (await outboundFetch(url, {})).text();
  assert.equal(proxy.seen.length, 1, "NO_PROXY among the handed settings is honoured");
});
