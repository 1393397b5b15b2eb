/** The context guard's window table, cheap estimate, and middle-out that keeps system, first turn and latest turns. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { contextWindow, DEFAULT_WINDOW, estimateTokens, middleOut } from "../../src/gateway/context-guard.ts";

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
