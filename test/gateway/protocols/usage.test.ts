/** Usage normalization for each protocol, and the cheap token estimate (timed on a 57 KB body, not asserted). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { estimateTokens, normalizeUsage } from "../../../src/gateway/protocols/usage.ts";

test("openai usage: prompt and completion tokens; cached tokens are already inside prompt_tokens", () => {
  assert.deepEqual(
    normalizeUsage("openai", {
      prompt_tokens: 5712,
      completion_tokens: 61,
      total_tokens: 5773,
      prompt_tokens_details: { cached_tokens: 4096 },
    }),
    { inputTokens: 5712, outputTokens: 61 },
  );
});

test("anthropic usage: cache writes and reads count as input, since Anthropic reports them apart", () => {
  assert.deepEqual(
    normalizeUsage("anthropic", {
      input_tokens: 472,
      output_tokens: 89,
      cache_creation_input_tokens: 10,
      cache_read_input_tokens: 100,
    }),
    { inputTokens: 582, outputTokens: 89 },
  );
  assert.deepEqual(normalizeUsage("anthropic", { output_tokens: 89 }), { inputTokens: 0, outputTokens: 89 });
  assert.deepEqual(
    normalizeUsage("anthropic", { input_tokens: 3, output_tokens: 1, cache_read_input_tokens: null }),
    {
      inputTokens: 3,
      outputTokens: 1,
    },
  );
});

test("responses usage: input and output tokens", () => {
  assert.deepEqual(
    normalizeUsage("responses", {
      input_tokens: 400,
      output_tokens: 25,
      total_tokens: 425,
      input_tokens_details: { cached_tokens: 300 },
    }),
    { inputTokens: 400, outputTokens: 25 },
  );
});

test("anything without counts is undefined", () => {
  for (const value of [undefined, null, 3, "x", {}, { prompt_tokens: "5" }, { input_tokens: -1 }]) {
    assert.equal(normalizeUsage("openai", value), undefined, JSON.stringify(value));
    assert.equal(normalizeUsage("anthropic", value), undefined, JSON.stringify(value));
  }
  assert.equal(
    normalizeUsage("openai", { input_tokens: 5 }),
    undefined,
    "the wrong protocol's fields do not count",
  );
});

/** A body shaped like OpenClaw's: a 48 KB system prompt, 12 tools, a short conversation; about 57 KB. */
function openclawSizedBody(): Record<string, unknown> {
  const tools = Array.from({ length: 12 }, (_, i) => ({
    type: "function",
    function: {
      name: `tool_${i}`,
      description: "Does one thing well. ".repeat(20),
      parameters: {
        type: "object",
        properties: {
          path: { type: "string", description: "A path in the workspace" },
          limit: { type: "number" },
        },
        required: ["path"],
      },
    },
  }));
  const messages = [
    { role: "system", content: "You are an agent in a fleet. Follow the constitution. ".repeat(890) },
    ...Array.from({ length: 8 }, (_, i) => ({
      role: i % 2 ? "assistant" : "user",
      content: "Some turn text. ".repeat(20),
    })),
  ];
  return {
    model: "strategic",
    messages,
    tools,
    tool_choice: "auto",
    max_completion_tokens: 8192,
    stream: true,
  };
}

test("estimateTokens is JSON length / 4, from an object, a string or bytes", () => {
  assert.equal(estimateTokens({ a: "bcd" }), Math.ceil('{"a":"bcd"}'.length / 4));
  assert.equal(estimateTokens("12345678"), 2);
  assert.equal(estimateTokens(new TextEncoder().encode("123456789")), 3);
  assert.equal(estimateTokens(undefined), 0);
});

test("estimateTokens on a 57 KB body, 1000 times (time printed, not asserted)", (t) => {
  const body = openclawSizedBody();
  const text = JSON.stringify(body);
  assert.ok(text.length > 55_000 && text.length < 60_000, `body is ${text.length} bytes`);
  const expected = Math.ceil(text.length / 4);
  let started = performance.now();
  for (let i = 0; i < 1000; i++) assert.equal(estimateTokens(body), expected);
  const fromObject = performance.now() - started;
  started = performance.now();
  for (let i = 0; i < 1000; i++) estimateTokens(text);
  const fromText = performance.now() - started;
  const report = `estimateTokens on a ${(text.length / 1024).toFixed(1)} KB body ×1000: parsed object ${fromObject.toFixed(1)} ms, raw text ${fromText.toFixed(2)} ms`;
  t.diagnostic(report);
  console.log(report);
});
