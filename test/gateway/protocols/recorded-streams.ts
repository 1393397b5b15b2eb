/** Upstream streams in the shape providers send them (ids, pings, usage placement), as raw SSE text. */
import type { AnthropicStreamEvent } from "../../../src/gateway/protocols/anthropic-types.ts";

const frame = (event: string | undefined, data: unknown): string =>
  `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;

const anthropicFrame = (data: AnthropicStreamEvent): string => frame(data.type, data);

/** Claude answering with text, then a get_weather tool call whose JSON arrives in fragments. */
export const ANTHROPIC_TOOL_STREAM = [
  anthropicFrame({
    type: "message_start",
    message: {
      id: "msg_014p7gG3wDgGV9EUtLvnow3U",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5-20250929",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: 472,
        output_tokens: 2,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 100,
      },
    },
  }),
  anthropicFrame({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
  // Anthropic writes the ping with a space, and a comment line now and then.
  'event: ping\ndata: {"type": "ping"}\n\n: keep-alive\n\n',
  anthropicFrame({
    type: "content_block_delta",
    index: 0,
    delta: { type: "text_delta", text: "Okay, checking " },
  }),
  anthropicFrame({
    type: "content_block_delta",
    index: 0,
    delta: { type: "text_delta", text: "San Francisco 🌉 — héllo:" },
  }),
  anthropicFrame({ type: "content_block_stop", index: 0 }),
  anthropicFrame({
    type: "content_block_start",
    index: 1,
    content_block: { type: "tool_use", id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", input: {} },
  }),
  anthropicFrame({
    type: "content_block_delta",
    index: 1,
    delta: { type: "input_json_delta", partial_json: "" },
  }),
  anthropicFrame({
    type: "content_block_delta",
    index: 1,
    delta: { type: "input_json_delta", partial_json: '{"location": "San Fra' },
  }),
  anthropicFrame({
    type: "content_block_delta",
    index: 1,
    delta: { type: "input_json_delta", partial_json: 'ncisco, CA", "unit": "fahrenheit"}' },
  }),
  anthropicFrame({ type: "content_block_stop", index: 1 }),
  anthropicFrame({
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 89 },
  }),
  anthropicFrame({ type: "message_stop" }),
].join("");

const chunk = (choices: unknown[], usage: unknown = null): string =>
  frame(undefined, {
    id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    object: "chat.completion.chunk",
    created: 1741570283,
    model: "gpt-4o-2024-08-06",
    system_fingerprint: "fp_eb9dce56a8",
    choices,
    usage,
  });

const delta = (value: unknown, finish: string | null = null) => [
  { index: 0, delta: value, logprobs: null, finish_reason: finish },
];

/** GPT answering with text, then two tool calls, then the finish chunk, the usage chunk and [DONE]. */
export const OPENAI_TOOL_STREAM = [
  chunk(delta({ role: "assistant", content: "", refusal: null })),
  chunk(delta({ content: "Let me check " })),
  chunk(delta({ content: "the weather ☀️ in Zürich." })),
  chunk(
    delta({
      tool_calls: [
        {
          index: 0,
          id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
          type: "function",
          function: { name: "get_weather", arguments: "" },
        },
      ],
    }),
  ),
  chunk(delta({ tool_calls: [{ index: 0, function: { arguments: '{"location' } }] })),
  chunk(delta({ tool_calls: [{ index: 0, function: { arguments: '":"Zürich"}' } }] })),
  chunk(
    delta({
      tool_calls: [
        { index: 1, id: "call_7k2Lq", type: "function", function: { name: "get_time", arguments: "" } },
      ],
    }),
  ),
  chunk(delta({ tool_calls: [{ index: 1, function: { arguments: '{"tz":"CET"}' } }] })),
  chunk(delta({}, "tool_calls")),
  chunk([], {
    prompt_tokens: 5712,
    completion_tokens: 61,
    total_tokens: 5773,
    prompt_tokens_details: { cached_tokens: 4096, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  }),
  frame(undefined, "[DONE]"),
].join("");

/** A text answer cut by the output limit (finish_reason "length"), with usage and [DONE]. */
export const OPENAI_LENGTH_STREAM = [
  chunk(delta({ role: "assistant", content: "" })),
  chunk(delta({ content: "Once upon" })),
  chunk(delta({ content: " a time" })),
  chunk(delta({}, "length")),
  chunk([], { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 }),
  frame(undefined, "[DONE]"),
].join("");

/** Replaces every LF with CRLF, as some proxies re-frame streams. */
export function withCrlf(text: string): string {
  return text.replaceAll("\n", "\r\n");
}
