/** Anthropic → chat requests: system blocks, tool results, images, tool_choice, and the round trip back. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnthropicRequest } from "../../../src/gateway/protocols/anthropic-types.ts";
import type { ChatToolChoice } from "../../../src/gateway/protocols/openai-types.ts";
import { anthropicToOpenai, openaiToAnthropic } from "../../../src/gateway/protocols/translate-request.ts";

const anthropicRequest: AnthropicRequest = {
  model: "claude-opus",
  max_tokens: 2048,
  system: [
    { type: "text", text: "You are Claude Code." },
    { type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } },
  ],
  messages: [
    { role: "user", content: "List files" },
    {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "I should run ls", signature: "sig" },
        { type: "text", text: "Running ls." },
        { type: "tool_use", id: "toolu_01", name: "Bash", input: { command: "ls" } },
      ],
    },
    {
      role: "user",
      content: [
        {
          type: "tool_result",
          tool_use_id: "toolu_01",
          content: [
            { type: "text", text: "a.txt" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "AAA=" } },
          ],
        },
        { type: "text", text: "And now?" },
      ],
    },
  ],
  tools: [
    {
      name: "Bash",
      description: "Run a shell command",
      input_schema: { type: "object", properties: { command: { type: "string" } } },
    },
    { type: "web_search_20250305", name: "web_search" },
  ],
  tool_choice: { type: "any", disable_parallel_tool_use: true },
  stop_sequences: ["</done>"],
  temperature: 0.2,
  stream: true,
  metadata: { user_id: "agent-7" },
};

test("anthropic → openai: system blocks, thinking dropped, tool results before the user text, images as data URLs", () => {
  const out = anthropicToOpenai(anthropicRequest, { model: "llama-70b" });
  assert.deepEqual(out.messages, [
    { role: "system", content: "You are Claude Code.\n\nBe brief." },
    { role: "user", content: "List files" },
    {
      role: "assistant",
      content: "Running ls.",
      tool_calls: [
        { id: "toolu_01", type: "function", function: { name: "Bash", arguments: '{"command":"ls"}' } },
      ],
    },
    { role: "tool", tool_call_id: "toolu_01", content: "a.txt" },
    {
      role: "user",
      content: [
        { type: "image_url", image_url: { url: "data:image/png;base64,AAA=" } },
        { type: "text", text: "And now?" },
      ],
    },
  ]);
  assert.deepEqual(out.tools, [
    {
      type: "function",
      function: {
        name: "Bash",
        description: "Run a shell command",
        parameters: { type: "object", properties: { command: { type: "string" } } },
      },
    },
  ]);
  assert.equal(out.tool_choice, "required");
  assert.equal(out.parallel_tool_calls, false);
  assert.deepEqual(out.stop, ["</done>"]);
  assert.equal(out.temperature, 0.2);
  assert.equal(out.max_completion_tokens, 2048);
  assert.deepEqual(out.stream_options, { include_usage: true }, "the gateway needs usage from the stream");
  assert.equal(out.user, "agent-7");
  assert.equal(out.model, "llama-70b");
});

test("anthropic → openai: each tool_choice maps back", () => {
  const choices: [AnthropicRequest["tool_choice"], ChatToolChoice][] = [
    [{ type: "auto" }, "auto"],
    [{ type: "any" }, "required"],
    [{ type: "none" }, "none"],
    [
      { type: "tool", name: "Bash" },
      { type: "function", function: { name: "Bash" } },
    ],
  ];
  for (const [choice, expected] of choices) {
    const out = anthropicToOpenai({ ...anthropicRequest, tool_choice: choice }, { model: "m" });
    assert.deepEqual(out.tool_choice, expected);
    assert.equal(out.parallel_tool_calls, undefined);
  }
});

test("anthropic → openai → anthropic keeps the conversation (less thinking and tool-result images)", () => {
  const back = openaiToAnthropic(anthropicToOpenai(anthropicRequest, { model: "m" }), {
    model: "claude-opus",
  });
  assert.equal(back.system, "You are Claude Code.\n\nBe brief.");
  assert.deepEqual(back.messages[1]?.content, [
    { type: "text", text: "Running ls." },
    { type: "tool_use", id: "toolu_01", name: "Bash", input: { command: "ls" } },
  ]);
  assert.deepEqual(back.messages[2]?.content, [
    { type: "tool_result", tool_use_id: "toolu_01", content: "a.txt" },
    { type: "image", source: { type: "base64", media_type: "image/png", data: "AAA=" } },
    { type: "text", text: "And now?" },
  ]);
  assert.deepEqual(back.tool_choice, { type: "any", disable_parallel_tool_use: true });
  assert.equal(back.max_tokens, 2048);
});
