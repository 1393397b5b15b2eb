/** The usage tap reads usage from streams split at any byte, in both wire formats. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createUsageTap } from "../../src/gateway/usage-tap.ts";

function feed(format: "openai" | "anthropic", text: string, step: number) {
  const tap = createUsageTap(format);
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += step) tap.push(bytes.subarray(i, i + step));
  return tap.usage();
}

test("OpenAI: the final usage chunk, wherever the stream is cut", () => {
  const stream =
    'data: {"choices":[{"delta":{"content":"hé"}}],"usage":null}\n\n' +
    'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}}\n\ndata: [DONE]\n\n';
  for (const step of [1, 3, 7, 1000])
    assert.deepEqual(feed("openai", stream, step), { inputTokens: 12, outputTokens: 34 });
});

test("Anthropic: input from message_start, output from the last message_delta", () => {
  const stream =
    'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":50,"output_tokens":1}}}\n\n' +
    'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}\n\n' +
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":20}}\n\n';
  for (const step of [1, 5, 1000])
    assert.deepEqual(feed("anthropic", stream, step), { inputTokens: 50, outputTokens: 20 });
});
