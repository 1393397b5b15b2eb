/** Request validation: messages name the wrong field, and unknown fields pass through untouched. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  validateAnthropicRequest,
  validateChatRequest,
  validateResponsesRequest,
  type ValidationResult,
} from "../../../src/gateway/protocols/validate.ts";

function messageOf(result: ValidationResult<unknown>): string {
  assert.equal(result.ok, false);
  return result.ok ? "" : result.message;
}

test("chat requests: each wrong field is named", () => {
  const cases: [unknown, string][] = [
    [null, "body: must be a JSON object"],
    [[], "body: must be a JSON object"],
    [{ messages: [{ role: "user", content: "x" }] }, "model: is required (a string)"],
    [{ model: 4, messages: [] }, "model: must be a string"],
    [{ model: "m" }, "messages: is required (a non-empty array)"],
    [{ model: "m", messages: [] }, "messages: must be a non-empty array"],
    [{ model: "m", messages: {} }, "messages: must be a non-empty array"],
    [{ model: "m", messages: ["hi"] }, "messages[0]: must be an object"],
    [
      { model: "m", messages: [{ role: "user", content: "x" }, { role: "bot" }] },
      'messages[1].role: must be one of "system", "developer", "user", "assistant", "tool"',
    ],
    [
      { model: "m", messages: [{ role: "user", content: 7 }] },
      "messages[0].content: must be a string or an array of content parts",
    ],
    [
      { model: "m", messages: [{ role: "assistant", tool_calls: [{ id: "c", function: { name: 1 } }] }] },
      "messages[0].tool_calls[0].function.name: must be a string",
    ],
    [{ model: "m", messages: [{ role: "user", content: "x" }], stream: "yes" }, "stream: must be a boolean"],
  ];
  for (const [body, message] of cases) assert.equal(messageOf(validateChatRequest(body)), message);
});

test("a valid chat request passes with unknown fields unchanged", () => {
  const body = {
    model: "strategic",
    messages: [{ role: "user", content: "hi", cache_hint: { x: 1 } }],
    reasoning_effort: "high",
    provider_specific: { nested: [1, 2] },
  };
  const result = validateChatRequest(body);
  assert.ok(result.ok);
  assert.deepEqual(result.value, body);
});

test("anthropic requests: model, max_tokens and messages are named", () => {
  const messages = [{ role: "user", content: "hi" }];
  const cases: [unknown, string][] = [
    [{ max_tokens: 10, messages }, "model: is required (a string)"],
    [{ model: "c", messages }, "max_tokens: is required (a number)"],
    [{ model: "c", max_tokens: "10", messages }, "max_tokens: must be a number"],
    [{ model: "c", max_tokens: 0, messages }, "max_tokens: must be positive"],
    [{ model: "c", max_tokens: 10, messages: [] }, "messages: must be a non-empty array"],
    [
      { model: "c", max_tokens: 10, messages: [{ role: "system", content: "x" }] },
      'messages[0].role: must be "user" or "assistant"',
    ],
    [
      { model: "c", max_tokens: 10, messages, system: 3 },
      "system: must be a string or an array of text blocks",
    ],
  ];
  for (const [body, message] of cases) assert.equal(messageOf(validateAnthropicRequest(body)), message);
  const body = {
    model: "c",
    max_tokens: 10,
    messages,
    thinking: { type: "enabled", budget_tokens: 2000 },
    betas: ["x"],
  };
  const ok = validateAnthropicRequest(body);
  assert.ok(ok.ok);
  assert.deepEqual(ok.value, body);
});

test("responses requests: model and input are named", () => {
  assert.equal(messageOf(validateResponsesRequest({ input: "x" })), "model: is required (a string)");
  assert.equal(
    messageOf(validateResponsesRequest({ model: "m" })),
    "input: is required (a string or an array of items)",
  );
  assert.equal(
    messageOf(validateResponsesRequest({ model: "m", input: 5 })),
    "input: must be a string or an array of items",
  );
  const body = {
    model: "gpt-5-codex",
    input: [{ type: "message", role: "user", content: "hi" }],
    store: false,
    include: ["x"],
  };
  const ok = validateResponsesRequest(body);
  assert.ok(ok.ok);
  assert.deepEqual(ok.value, body);
});
