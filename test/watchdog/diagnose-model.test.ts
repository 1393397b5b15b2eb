// The diagnosis model called straight at the providers of watchdog.model's chain (a real simulator on 127.0.0.1):
// failover across entries and keys, an outage, a hanging provider against the time budget, bad answers, the cache.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { createSimulator, type Simulator } from "../../src/sim/simulator.ts";
import type { SimOptionsInput } from "../../src/sim/options.ts";
import { diagnose, symptomFingerprint } from "../../src/watchdog/diagnose/diagnose.ts";
import { callDiagnosisModel } from "../../src/watchdog/diagnose/model-client.ts";
import type { Diagnosis, Evidence, NoDiagnosis } from "../../src/watchdog/types.ts";
import { diagnosisFleet, downProbes, mapCache, target } from "../support/diagnosis.ts";

const GOOD = JSON.stringify({
  diagnosis: "the agent exits at start: its port is taken",
  confidence: 0.8,
  actions: [{ argv: ["flotilla", "restart", "coder"], why: "start it again" }],
});

const ENV = { WD_KEY_A: "key-a", WD_KEY_B: "key-b", WD_KEY_C: "key-c" };

const PROMPT = { system: "answer in JSON", user: "Target: agent:coder" };

interface Rig {
  sim: Simulator;
  config: ReturnType<typeof diagnosisFleet>["config"];
}

/** One simulator behind two providers (OpenAI format with keys a and b, Anthropic format with key c), chained as `healer`. */
async function rig(
  t: TestContext,
  sim: SimOptionsInput = {},
  watchdog = "diagnosisTimeout: 5s",
): Promise<Rig> {
  const simulator = createSimulator({
    keys: { "key-a": {}, "key-b": {}, "key-c": {} },
    script: [{ reply: GOOD }],
    ...sim,
  });
  const url = await simulator.start();
  t.after(() => simulator.close());
  const { config } = diagnosisFleet(
    t,
    `providers:
  - { id: first, kind: openai, baseUrl: ${url}/v1, keys: [{ env: WD_KEY_A }, { env: WD_KEY_B }] }
  - { id: second, kind: anthropic, baseUrl: ${url}, keys: [{ env: WD_KEY_C }] }
models:
  healer: [{ provider: first, model: sim-small }, { provider: second, model: sim-large }]
watchdog: { model: healer, ${watchdog} }
`,
  );
  return { sim: simulator, config };
}

const EVIDENCE: Evidence = {
  logs: ["2026-12-07T10:00:01.123Z listen EADDRINUSE 127.0.0.1:48555 (pid 4242)", "exited with code 1"],
  events: ['2026-12-07T10:00:01.200Z agent.exited coder {"code":1}'],
  configCheck: "valid",
};

test("the first entry's answer is the diagnosis: one call", async (t) => {
  const { sim, config } = await rig(t);
  const { result, calls } = await callDiagnosisModel(config, ENV, PROMPT, 5000);
  assert.deepEqual(result, { ok: true, text: GOOD, model: "first/sim-small" });
  assert.equal(calls, 1);
  assert.equal(sim.stats().byKey["key-a"]?.requests, 1);
});

test("a rate-limited entry (429 with Retry-After) fails over to the next key, then the next entry; each request counts", async (t) => {
  const { sim, config } = await rig(t);
  sim.setKeyFault("key-a", { kind: "rate_limited", retryAfterMs: 30_000 });
  sim.setKeyFault("key-b", { kind: "rate_limited", retryAfterMs: 30_000 });
  const { result, calls } = await callDiagnosisModel(config, ENV, PROMPT, 5000);
  assert.deepEqual(result, { ok: true, text: GOOD, model: "second/sim-large" });
  assert.equal(calls, 3);
  assert.equal(sim.stats().rateLimited, 2);
});

test("a revoked key (401) goes to the provider's next key", async (t) => {
  const { sim, config } = await rig(t);
  sim.setKeyFault("key-a", { kind: "revoked" });
  const { result, calls } = await callDiagnosisModel(config, ENV, PROMPT, 5000);
  assert.deepEqual(result, { ok: true, text: GOOD, model: "first/sim-small" });
  assert.equal(calls, 2);
});

test("a 5xx moves to the next entry, not the next key", async (t) => {
  const { sim, config } = await rig(t);
  sim.setKeyFault("key-a", { kind: "server_error" });
  const { result, calls } = await callDiagnosisModel(config, ENV, PROMPT, 5000);
  assert.equal(result.ok && result.model, "second/sim-large");
  assert.equal(calls, 2);
  assert.equal(sim.stats().byKey["key-b"], undefined);
});

test("every provider down: unavailable, with each entry's reason and no key in it", async (t) => {
  const { sim, config } = await rig(t);
  sim.setFaults({ status: 503 });
  const { result, calls } = await callDiagnosisModel(config, ENV, PROMPT, 5000);
  assert.equal(result.ok, false);
  assert.match(
    !result.ok ? result.reason : "",
    /first\/sim-small key 1: answered 503; second\/sim-large key 1: answered 503/,
  );
  assert.doesNotMatch(!result.ok ? result.reason : "", /key-a|key-c/);
  assert.equal(calls, 2);
});

test("a refused connection moves on to the next entry", async (t) => {
  const { sim, config } = await rig(t);
  await sim.close();
  const { result, calls } = await callDiagnosisModel(config, ENV, PROMPT, 5000);
  assert.match(
    !result.ok ? result.reason : "",
    /unreachable \(ECONNREFUSED\).*second\/sim-large key 1: unreachable/,
  );
  assert.equal(calls, 2);
});

test("a hanging provider uses up the time budget: no further entry is tried", async (t) => {
  const { sim, config } = await rig(t, { faults: { hangRate: 1 } }, "diagnosisTimeout: 1s");
  const { result, calls } = await callDiagnosisModel(config, ENV, PROMPT, config.watchdog.diagnosisTimeout);
  assert.match(
    !result.ok ? result.reason : "",
    /first\/sim-small key 1: no answer within \d+ ms; out of time/,
  );
  assert.equal(calls, 1);
  assert.equal(sim.stats().byKey["key-c"], undefined);
});

test("a missing key variable is a reason, and the next key is tried", async (t) => {
  const { config } = await rig(t);
  const { result, calls } = await callDiagnosisModel(config, { WD_KEY_B: "key-b" }, PROMPT, 5000);
  assert.equal(result.ok && result.model, "first/sim-small");
  assert.equal(calls, 1);
});

test("an OAuth2 provider is skipped with its reason", async (t) => {
  const simulator = createSimulator({ keys: { "key-c": {} }, script: [{ reply: GOOD }] });
  const url = await simulator.start();
  t.after(() => simulator.close());
  const { config } = diagnosisFleet(
    t,
    `providers:
  - id: oauthy
    kind: openai
    baseUrl: ${url}/v1
    keys: [{ env: WD_KEY_A }]
    auth: { kind: oauth2, tokenUrl: ${url}/oauth/token }
  - { id: second, kind: anthropic, baseUrl: ${url}, keys: [{ env: WD_KEY_C }] }
models:
  healer: [{ provider: oauthy, model: sim-small }, { provider: second, model: sim-large }]
watchdog: { model: healer }
`,
  );
  const { result, calls } = await callDiagnosisModel(config, ENV, PROMPT, 5000);
  assert.equal(result.ok && result.model, "second/sim-large");
  assert.equal(calls, 1);
});

test("an answer that cannot be parsed (not JSON, no completion, too large) moves on to the next entry", async (t) => {
  const answers = [
    "<html>502 Bad Gateway</html>",
    JSON.stringify({ object: "chat.completion" }),
    "x".repeat(2_000_000),
  ];
  let served = 0;
  const broken = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(answers[served++]));
  });
  await new Promise<void>((resolve) => broken.listen(0, "127.0.0.1", resolve));
  t.after(() => broken.close());
  const { config } = await rig(t);
  const port = (broken.address() as AddressInfo).port;
  const chain = {
    ...config,
    providers: [
      ...config.providers,
      { ...config.providers[0]!, id: "broken", baseUrl: `http://127.0.0.1:${port}/v1` },
    ],
    models: {
      healer: [
        { provider: "broken", model: "m" },
        { provider: "broken", model: "m" },
        { provider: "broken", model: "m" },
        { provider: "second", model: "sim-large" },
      ],
    },
  };
  const { result, calls } = await callDiagnosisModel(chain, ENV, PROMPT, 5000);
  assert.equal(result.ok && result.model, "second/sim-large");
  assert.equal(calls, 4);
  assert.equal(served, 3);
});

function isDiagnosis(result: Diagnosis | NoDiagnosis): result is Diagnosis {
  return "diagnosis" in result;
}

test("diagnose: no watchdog.model is the deterministic path, without a call", async (t) => {
  const { config } = diagnosisFleet(t, "");
  const coder = target("agent", "coder");
  const out = await diagnose(coder, downProbes(coder, "state failed (exit 1)"), EVIDENCE, {
    config,
    env: ENV,
    cache: mapCache(),
    now: Date.now(),
  });
  assert.deepEqual(out, { result: { unavailable: "no watchdog.model: deterministic path" }, modelCalls: 0 });
});

test("diagnose: an answer that is not JSON, or not the schema, is no diagnosis; the call counts and nothing is cached", async (t) => {
  const { config } = await rig(t, {
    script: [
      { match: "agent:chatty", reply: "The agent crashed; restart it." },
      {
        match: "agent:sloppy",
        reply: '```json\n{"diagnosis":"port taken","confidence":"high","actions":[]}\n```',
      },
      { reply: GOOD },
    ],
  });
  const cache = mapCache();
  for (const [name, reason] of [
    ["chatty", /^model answer: not JSON/],
    ["sloppy", /^model answer: confidence: must be a number from 0 to 1, not "high"/],
  ] as const) {
    const of = target("agent", name);
    const { result, modelCalls } = await diagnose(of, downProbes(of, "refused"), EVIDENCE, {
      config,
      env: ENV,
      cache,
      now: Date.now(),
    });
    assert.match((result as NoDiagnosis).unavailable, reason);
    assert.equal(modelCalls, 1);
  }
  assert.equal(cache.puts, 0);
});

test("diagnose: no model answering is no diagnosis, with the calls it cost", async (t) => {
  const { sim, config } = await rig(t);
  sim.setFaults({ status: 500 });
  const coder = target("agent", "coder");
  const { result, modelCalls } = await diagnose(coder, downProbes(coder, "refused"), EVIDENCE, {
    config,
    env: ENV,
    cache: mapCache(),
    now: Date.now(),
  });
  assert.match(
    (result as NoDiagnosis).unavailable,
    /^model unavailable: first\/sim-small key 1: answered 500/,
  );
  assert.equal(modelCalls, 2);
});

test("diagnose: the same symptoms within reuseDiagnosisFor reuse the diagnosis; after it, the model is asked again", async (t) => {
  const { sim, config } = await rig(t, {}, "reuseDiagnosisFor: 1h");
  const cache = mapCache();
  const coder = target("agent", "coder");
  const start = Date.parse("2026-12-07T10:00:00Z");
  const deps = (now: number) => ({ config, env: ENV, cache, now });

  const first = await diagnose(
    coder,
    downProbes(coder, "refused on port 48555", start),
    EVIDENCE,
    deps(start),
  );
  assert.ok(isDiagnosis(first.result));
  assert.equal(first.result.source, "model");
  assert.equal(first.result.model, "first/sim-small");
  assert.deepEqual(first.result.actions, [{ argv: ["flotilla", "restart", "coder"], why: "start it again" }]);
  assert.equal(first.modelCalls, 1);

  // The same failure 40 minutes later: other times, pid, port and hex id in the lines.
  const later = start + 40 * 60_000;
  const again: Evidence = {
    ...EVIDENCE,
    logs: ["2026-12-07T10:40:09.870Z listen EADDRINUSE 127.0.0.1:48999 (pid 5151)", "exited with code 1"],
  };
  const second = await diagnose(coder, downProbes(coder, "refused on port 48999", later), again, deps(later));
  assert.ok(isDiagnosis(second.result));
  assert.equal(second.result.source, "cache");
  assert.equal(second.result.diagnosis, first.result.diagnosis);
  assert.equal(second.modelCalls, 0);
  assert.equal(sim.stats().requests, 1);

  // Other symptoms are another diagnosis.
  const other: Evidence = { ...EVIDENCE, logs: ["out of memory"] };
  const third = await diagnose(coder, downProbes(coder, "refused", later), other, deps(later));
  assert.equal(third.modelCalls, 1);

  // Past the window: asked again.
  const past = start + 61 * 60_000;
  const fourth = await diagnose(
    coder,
    downProbes(coder, "refused on port 48555", past),
    EVIDENCE,
    deps(past),
  );
  assert.ok(isDiagnosis(fourth.result));
  assert.equal(fourth.result.source, "model");
  assert.equal(fourth.modelCalls, 1);
  assert.equal(sim.stats().requests, 3);
});

test("the fingerprint collapses times, numbers and hex ids, and keeps the target and the words", () => {
  const coder = target("agent", "coder");
  const at = Date.now();
  const a = symptomFingerprint(coder, downProbes(coder, "heartbeat 14m old", at), {
    logs: ["12:00:01 request 9f8e7d6c5b4a failed after 1500 ms"],
    events: ["ignored"],
    configCheck: "valid",
  });
  const b = symptomFingerprint(coder, downProbes(coder, "heartbeat 29m old", at + 1), {
    logs: ["13:07:44 request 0a1b2c3d4e5f failed after 30000 ms"],
    events: ["other events do not change it"],
    configCheck: "valid",
  });
  assert.equal(a, b);
  const gateway = target("gateway");
  assert.notEqual(
    a,
    symptomFingerprint(gateway, downProbes(gateway, "heartbeat 14m old", at), {
      logs: ["12:00:01 request 9f8e7d6c5b4a failed after 1500 ms"],
      events: [],
      configCheck: "valid",
    }),
  );
  assert.notEqual(
    a,
    symptomFingerprint(coder, downProbes(coder, "heartbeat 14m old", at), {
      logs: ["12:00:01 request 9f8e7d6c5b4a succeeded after 1500 ms"],
      events: [],
      configCheck: "valid",
    }),
  );
});
