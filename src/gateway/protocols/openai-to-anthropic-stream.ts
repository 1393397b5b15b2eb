/** Chat Completions chunk stream → Anthropic Messages event stream. */
import type { AnthropicResponseBlock, AnthropicStreamEvent } from "./anthropic-types.ts";
import { anthropicToolId, newId } from "./ids.ts";
import type { ChatCompletionChunk, ChatFinishReason, ChatUsage } from "./openai-types.ts";
import { encodeSse, type SseEvent } from "./sse.ts";
import { openaiFinishToAnthropic } from "./stop-reasons.ts";
import { readChatFrame, type StreamTransformOptions } from "./stream-input.ts";
import { normalizeUsage } from "./usage.ts";
import { chatUsageToAnthropic } from "./usage-wire.ts";

export type OpenaiStreamToAnthropicOptions = StreamTransformOptions;

function send(event: AnthropicStreamEvent): string {
  return encodeSse(JSON.stringify(event), event.type);
}

/**
 * Yields the full Anthropic event sequence as chunks arrive: message_start on the first chunk, one
 * content block per run of text and per tool call (one block open at a time, indices counting up
 * from 0), then message_delta (stop reason, usage) and message_stop once the finish reason and the
 * usage chunk are in, or at `[DONE]`. The upstream must be asked for `include_usage` for counts.
 */
export async function* openaiStreamToAnthropic(
  events: AsyncIterable<SseEvent>,
  options: OpenaiStreamToAnthropicOptions,
): AsyncGenerator<string> {
  const messageId = newId("msg_");
  let started = false;
  let ended = false;
  let nextIndex = 0;
  let open: { index: number; kind: "text" | "tool" } | undefined;
  /** OpenAI tool-call index → Anthropic content-block index. */
  const toolBlocks = new Map<number, number>();
  let finish: ChatFinishReason | undefined;
  let usage: ChatUsage | undefined;

  function* startBlock(kind: "text" | "tool", block: AnthropicResponseBlock): Generator<string> {
    yield* closeBlock();
    open = { index: nextIndex++, kind };
    yield send({ type: "content_block_start", index: open.index, content_block: block });
  }
  function* closeBlock(): Generator<string> {
    if (open) yield send({ type: "content_block_stop", index: open.index });
    open = undefined;
  }
  function* finishMessage(): Generator<string> {
    yield* closeBlock();
    const stopReason = openaiFinishToAnthropic(finish) ?? "end_turn";
    const { input_tokens, output_tokens, cache_read_input_tokens } = chatUsageToAnthropic(usage);
    yield send({
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { input_tokens, output_tokens, ...(cache_read_input_tokens ? { cache_read_input_tokens } : {}) },
    });
    yield send({ type: "message_stop" });
    const final = normalizeUsage("openai", usage);
    if (final) options.onUsage?.(final);
    ended = true;
  }
  function* chunkEvents(chunk: ChatCompletionChunk): Generator<string> {
    const choice = chunk.choices.find((candidate) => candidate.index === 0) ?? chunk.choices[0];
    const delta = choice?.delta;
    const text = delta?.content || delta?.refusal;
    if (text) {
      if (open?.kind !== "text") yield* startBlock("text", { type: "text", text: "" });
      yield send({
        type: "content_block_delta",
        index: open?.index ?? 0,
        delta: { type: "text_delta", text },
      });
    }
    for (const call of delta?.tool_calls ?? []) {
      let index = toolBlocks.get(call.index);
      if (index === undefined) {
        const id = anthropicToolId(call.id ?? newId("toolu_"));
        yield* startBlock("tool", { type: "tool_use", id, name: call.function?.name ?? "", input: {} });
        index = open?.index ?? 0;
        toolBlocks.set(call.index, index);
      }
      // A fragment for an earlier call still goes to that call's block: clients accumulate by index.
      const partial = call.function?.arguments;
      if (partial) {
        yield send({
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: partial },
        });
      }
    }
    if (choice?.finish_reason) {
      finish = choice.finish_reason;
      yield* closeBlock();
    }
    if (chunk.usage) usage = chunk.usage;
    // The usage chunk follows the finish chunk; once both are in, the message is done.
    if (finish && usage) yield* finishMessage();
  }

  for await (const sse of events) {
    if (ended) continue; // drain, so the upstream connection ends cleanly
    const frame = readChatFrame(sse);
    if (!frame) continue;
    if (frame.kind === "error") {
      yield send({
        type: "error",
        error: { type: anthropicTypeFor(frame.type, frame.code), message: frame.message },
      });
      ended = true;
      continue;
    }
    if (!started) {
      started = true;
      yield send({
        type: "message_start",
        message: {
          id: messageId,
          type: "message",
          role: "assistant",
          model: options.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      });
    }
    if (frame.kind === "done") yield* finishMessage();
    else yield* chunkEvents(frame.chunk);
  }
  if (ended) return;
  if (finish) yield* finishMessage();
  else {
    const message = "the upstream stream ended before the message was complete";
    yield send({ type: "error", error: { type: "api_error", message } });
  }
}

/** OpenAI marks rate limits by type ("requests", "tokens", "rate_limit_exceeded") or by code. */
function anthropicTypeFor(openaiType: string, code: string | null): string {
  if (code === "rate_limit_exceeded" || ["requests", "tokens", "rate_limit_exceeded"].includes(openaiType)) {
    return "rate_limit_error";
  }
  if (openaiType === "invalid_request_error") return "invalid_request_error";
  if (openaiType === "authentication_error") return "authentication_error";
  return "api_error";
}
