/** Responses → chat requests: instructions, input items, function calls and outputs, tools, limits. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { responsesToOpenai } from "../../../src/gateway/protocols/translate-request.ts";

test("responses → openai: instructions, items, function calls and outputs, function tools, limits", () => {
  const out = responsesToOpenai({
    model: "gpt-5-codex",
    instructions: "You are Codex.",
    input: [
      {
        type: "message",
        role: "developer",
        content: [{ type: "input_text", text: "Sandbox: workspace-write" }],
      },
      { role: "user", content: [{ type: "input_text", text: "Fix the test" }] },
      { type: "reasoning", id: "rs_1", summary: [] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Looking." }] },
      { type: "function_call", call_id: "call_a", name: "shell", arguments: '{"command":["ls"]}' },
      { type: "function_call", call_id: "call_b", name: "shell", arguments: '{"command":["pwd"]}' },
      { type: "function_call_output", call_id: "call_a", output: "src test" },
      { type: "function_call_output", call_id: "call_b", output: "/repo" },
    ],
    tools: [
      { type: "function", name: "shell", description: "Run", parameters: { type: "object" }, strict: false },
      { type: "web_search" },
    ],
    tool_choice: "auto",
    parallel_tool_calls: true,
    max_output_tokens: 1000,
    stream: true,
  });
  assert.deepEqual(out.messages, [
    { role: "system", content: "You are Codex." },
    { role: "system", content: "Sandbox: workspace-write" },
    { role: "user", content: "Fix the test" },
    {
      role: "assistant",
      content: "Looking.",
      tool_calls: [
        { id: "call_a", type: "function", function: { name: "shell", arguments: '{"command":["ls"]}' } },
        { id: "call_b", type: "function", function: { name: "shell", arguments: '{"command":["pwd"]}' } },
      ],
    },
    { role: "tool", tool_call_id: "call_a", content: "src test" },
    { role: "tool", tool_call_id: "call_b", content: "/repo" },
  ]);
  assert.deepEqual(out.tools, [
    {
      type: "function",
      function: { name: "shell", description: "Run", parameters: { type: "object" }, strict: false },
    },
  ]);
  assert.equal(out.tool_choice, "auto");
  assert.equal(out.parallel_tool_calls, true);
  assert.equal(out.max_completion_tokens, 1000);
  assert.deepEqual(out.stream_options, { include_usage: true });
  assert.equal(out.model, "gpt-5-codex");
  assert.equal(responsesToOpenai({ model: "a", input: "x" }, { model: "b" }).model, "b");
});

test("responses → openai: a string input is one user message; a call with no text opens its own turn", () => {
  assert.deepEqual(responsesToOpenai({ model: "m", input: "hello" }).messages, [
    { role: "user", content: "hello" },
  ]);
  const out = responsesToOpenai({
    model: "m",
    input: [
      { role: "user", content: "go" },
      { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
      { type: "function_call_output", call_id: "c1", output: [{ type: "input_text", text: "done" }] },
    ],
  });
  assert.deepEqual(out.messages.slice(1), [
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }],
    },
    { role: "tool", tool_call_id: "c1", content: "done" },
  ]);
});
