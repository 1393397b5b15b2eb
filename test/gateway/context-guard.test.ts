/** The context guard's window table, cheap estimate, middle-out that keeps system, first turn and latest turns, and the answer's reserve. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { contextWindow, DEFAULT_WINDOW, estimateTokens, middleOut } from "../../src/gateway/context-guard.ts";
import { createSimulator } from "../../src/sim/simulator.ts";
import { startGateway } from "../support/gateway.ts";

test("windows come from config first, then the built-in table, then the default", () => {
  assert.equal(contextWindow("claude-opus-4-5"), 200_000);
  assert.equal(contextWindow("gpt-4o-mini"), 128_000);
  assert.equal(contextWindow("something-new"), DEFAULT_WINDOW);
  assert.equal(contextWindow("gpt-4o", 9000), 9000);
});

test("the estimate is about a quarter of the JSON length", () => {
  assert.equal(estimateTokens({ a: "x".repeat(396) }), 101, "404 characters of JSON");
});

test("middle-out drops whole middle turns and never orphans a tool result", () => {
  const big = "word ".repeat(200);
  const messages = [
    { role: "system", content: "rules" },
    { role: "user", content: `first task ${big}` },
    { role: "assistant", content: big },
    { role: "user", content: `second ${big}` },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: "{}" } }],
    },
    { role: "tool", tool_call_id: "t1", content: big },
    { role: "assistant", content: big },
    { role: "user", content: "latest question" },
  ];
  const full = estimateTokens(messages);
  const result = middleOut(messages, Math.floor(full * 0.6));
  assert.ok(result);
  assert.deepEqual(
    result.messages.map((m) => m.role),
    ["system", "user", "user"],
    "the first reply and the tool turn go, each as a whole",
  );
  assert.equal(result.messages.at(-1)?.content, "latest question");
  assert.equal(result.dropped, 5);
  assert.ok(estimateTokens(result.messages) <= Math.floor(full * 0.6));
  assert.equal(middleOut(messages, 10), undefined, "nothing useful fits: the caller rejects");
  assert.equal(middleOut(messages.slice(0, 3), 10), undefined, "a single turn cannot be trimmed");
});

test("through the gateway, middle-out leaves the answer at least 1,024 tokens of the window", async (t) => {
  const sim = createSimulator({ keys: { "sim-key-reserve": {} }, latency: { firstTokenMs: 0, jitterMs: 0 } });
  const url = await sim.start();
  t.after(() => sim.close());
  process.env.RESERVE_KEY = "sim-key-reserve";
  const window = 4000;
  const gw = await startGateway(
    t,
    `version: 1
gateway: { contextStrategy: middle-out }
providers:
  - { id: p, kind: openai, baseUrl: ${url}/v1, keys: [{ env: RESERVE_KEY }] }
models:
  main: [{ provider: p, model: sim-large, contextWindow: ${window} }]
agents:
  - { name: coder, command: x, workspace: /tmp, model: main }
`,
  );
  const filler = "lorem ipsum ".repeat(400);
  // About 4,900 tokens: dropping only the first reply would leave a ~3,650-token prompt, which fits
  // the 4,000-token window but leaves the answer ~350 tokens; the reserve makes the guard drop more.
  const messages = [
    { role: "system", content: "be brief" },
    { role: "user", content: `first ${filler}` },
    { role: "assistant", content: filler },
    { role: "user", content: `second ${filler}` },
    { role: "assistant", content: filler },
    { role: "user", content: "the latest question" },
  ];
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${gw.key("coder")}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "main", messages }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  await res.text();
  const trimmed = gw.store.query({ kind: "gateway.context_trimmed" });
  assert.equal(trimmed[0]?.data.dropped, 3);
  const pressure = Number(gw.store.query({ kind: "gateway.request" })[0]?.data.contextPressure);
  const left = Math.round(window * (1 - pressure));
  assert.ok(left >= 1024, `the trimmed prompt leaves the answer ${left} tokens`);
});
