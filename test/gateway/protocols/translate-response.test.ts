/** Response translation: content, tool calls, every finish/stop reason, usage with cached tokens. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  AnthropicResponse,
  AnthropicStopReason,
} from "../../../src/gateway/protocols/anthropic-types.ts";
import type { ChatCompletion, ChatFinishReason } from "../../../src/gateway/protocols/openai-types.ts";
import {
  anthropicResponseToOpenai,
  openaiResponseToAnthropic,
  openaiResponseToResponses,
} from "../../../src/gateway/protocols/translate-response.ts";

const anthropicMessage: AnthropicResponse = {
  id: "msg_01XFDUDYJgAACzvnptvVoYEL",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-5",
  content: [
    { type: "thinking", thinking: "hmm", signature: "s" },
    { type: "text", text: "I'll check." },
    { type: "tool_use", id: "toolu_01A", name: "get_weather", input: { location: "Paris" } },
  ],
  stop_reason: "tool_use",
  stop_sequence: null,
  usage: {
    input_tokens: 100,
    output_tokens: 20,
    cache_creation_input_tokens: 5,
    cache_read_input_tokens: 300,
  },
};

const chatCompletion: ChatCompletion = {
  id: "chatcmpl-123",
  object: "chat.completion",
  created: 1741570283,
  model: "gpt-4o",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"location":"Paris"}' },
          },
        ],
      },
      finish_reason: "tool_calls",
    },
  ],
  usage: {
    prompt_tokens: 400,
    completion_tokens: 25,
    total_tokens: 425,
    prompt_tokens_details: { cached_tokens: 300 },
  },
};

test("anthropic → openai: text joined, thinking dropped, tool_use as tool_calls, usage counts every prompt token", () => {
  const out = anthropicResponseToOpenai(anthropicMessage, "strategic");
  assert.equal(out.object, "chat.completion");
  assert.equal(out.model, "strategic");
  assert.deepEqual(out.choices, [
    {
      index: 0,
      message: {
        role: "assistant",
        content: "I'll check.",
        tool_calls: [
          {
            id: "toolu_01A",
            type: "function",
            function: { name: "get_weather", arguments: '{"location":"Paris"}' },
          },
        ],
      },
      finish_reason: "tool_calls",
      logprobs: null,
    },
  ]);
  assert.deepEqual(out.usage, {
    prompt_tokens: 405,
    completion_tokens: 20,
    total_tokens: 425,
    prompt_tokens_details: { cached_tokens: 300 },
  });
  const toolsOnly = anthropicResponseToOpenai(
    { ...anthropicMessage, content: anthropicMessage.content.slice(2) },
    "m",
  );
  assert.equal(toolsOnly.choices[0]?.message.content, null);
});

test("openai → anthropic: text then tool_use blocks, cached tokens split out of input_tokens", () => {
  const out = openaiResponseToAnthropic(chatCompletion, "claude-opus");
  assert.match(out.id, /^msg_/);
  assert.equal(out.model, "claude-opus");
  assert.deepEqual(out.content, [
    { type: "text", text: "Checking." },
    { type: "tool_use", id: "call_1", name: "get_weather", input: { location: "Paris" } },
  ]);
  assert.equal(out.stop_reason, "tool_use");
  assert.deepEqual(out.usage, { input_tokens: 100, output_tokens: 25, cache_read_input_tokens: 300 });
});

test("openai → responses: a message item then function_call items, with usage", () => {
  const out = openaiResponseToResponses(chatCompletion, "gpt-5-codex");
  assert.equal(out.object, "response");
  assert.equal(out.status, "completed");
  assert.match(out.id, /^resp_/);
  const [message, call] = out.output;
  assert.equal(message?.type, "message");
  assert.deepEqual(message?.type === "message" ? message.content : undefined, [
    { type: "output_text", text: "Checking.", annotations: [] },
  ]);
  assert.equal(call?.type, "function_call");
  assert.equal(call?.type === "function_call" ? call.call_id : undefined, "call_1");
  assert.equal(call?.type === "function_call" ? call.arguments : undefined, '{"location":"Paris"}');
  assert.deepEqual(out.usage, {
    input_tokens: 400,
    output_tokens: 25,
    total_tokens: 425,
    input_tokens_details: { cached_tokens: 300 },
    output_tokens_details: { reasoning_tokens: 0 },
  });
});

test("every stop reason maps to a finish reason", () => {
  const cases: [AnthropicStopReason, ChatFinishReason][] = [
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["pause_turn", "stop"],
    ["max_tokens", "length"],
    ["model_context_window_exceeded", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
  ];
  for (const [stop, finish] of cases) {
    const out = anthropicResponseToOpenai({ ...anthropicMessage, stop_reason: stop }, "m");
    assert.equal(out.choices[0]?.finish_reason, finish, stop);
  }
});

test("every finish reason maps to a stop reason and a Responses status", () => {
  const cases: [ChatFinishReason, AnthropicStopReason, string, string | undefined][] = [
    ["stop", "end_turn", "completed", undefined],
    ["length", "max_tokens", "incomplete", "max_output_tokens"],
    ["tool_calls", "tool_use", "completed", undefined],
    ["function_call", "tool_use", "completed", undefined],
    ["content_filter", "refusal", "incomplete", "content_filter"],
  ];
  for (const [finish, stop, status, reason] of cases) {
    const res: ChatCompletion = {
      ...chatCompletion,
      choices: [{ index: 0, message: { role: "assistant", content: "x" }, finish_reason: finish }],
    };
    assert.equal(openaiResponseToAnthropic(res, "m").stop_reason, stop, finish);
    const responses = openaiResponseToResponses(res, "m");
    assert.equal(responses.status, status, finish);
    assert.equal(responses.incomplete_details?.reason, reason, finish);
  }
});

test("a completion without usage or choices still translates, with zero counts", () => {
  const empty: ChatCompletion = { id: "x", object: "chat.completion", created: 0, model: "m", choices: [] };
  assert.deepEqual(openaiResponseToAnthropic(empty, "m").usage, { input_tokens: 0, output_tokens: 0 });
  assert.deepEqual(openaiResponseToAnthropic(empty, "m").content, []);
  assert.equal(openaiResponseToResponses(empty, "m").usage?.total_tokens, 0);
});
