/** Anthropic Messages event stream → Chat Completions chunk stream. */
import type { AnthropicUsage } from "./anthropic-types.ts";
import { newId, unixSeconds } from "./ids.ts";
import type { ChatChunkDelta, ChatCompletionChunk, ChatErrorBody, ChatFinishReason } from "./openai-types.ts";
import { encodeSse, type SseEvent } from "./sse.ts";
import { anthropicStopToOpenai } from "./stop-reasons.ts";
import { readAnthropicEvent, type StreamTransformOptions } from "./stream-input.ts";
import { stringifyToolInput } from "./tool-arguments.ts";
import { normalizeUsage } from "./usage.ts";
import { anthropicUsageToChat } from "./usage-wire.ts";

export type AnthropicStreamToOpenaiOptions = StreamTransformOptions & {
  /** The client sent `stream_options.include_usage`: end with a `choices: []` usage chunk. */
  includeUsage?: boolean;
};

const DONE = "data: [DONE]\n\n";

/**
 * Yields one chunk per upstream event as it arrives: message_start → the role chunk, text deltas →
 * content, each tool_use block → a tool call (index, id, name) then its argument fragments,
 * message_delta → the finish chunk (and the usage chunk when asked), message_stop → `[DONE]`.
 * Thinking, signature and ping events have no chat form and yield nothing.
 */
export async function* anthropicStreamToOpenai(
  events: AsyncIterable<SseEvent>,
  options: AnthropicStreamToOpenaiOptions,
): AsyncGenerator<string> {
  const id = newId("chatcmpl-");
  const created = unixSeconds();
  const frame = (
    choices: ChatCompletionChunk["choices"],
    extra: Partial<ChatCompletionChunk> = {},
  ): string => {
    const chunk: ChatCompletionChunk = {
      id,
      object: "chat.completion.chunk",
      created,
      model: options.model,
      choices,
    };
    return encodeSse(JSON.stringify({ ...chunk, ...extra }));
  };
  const delta = (value: ChatChunkDelta, finish: ChatFinishReason | null = null): string =>
    frame([{ index: 0, delta: value, finish_reason: finish }]);

  let usage: Partial<AnthropicUsage> = {};
  /** Anthropic content-block index → OpenAI tool-call index (which counts tool calls only). */
  const toolIndex = new Map<number, number>();
  let finished = false;
  let ended = false;

  for await (const sse of events) {
    if (ended) continue; // drain, so the upstream connection ends cleanly
    const event = readAnthropicEvent(sse);
    if (!event) continue;
    switch (event.type) {
      case "message_start":
        usage = mergeUsage(usage, event.message.usage);
        yield delta({ role: "assistant", content: "" });
        break;
      case "content_block_start": {
        const block = event.content_block;
        if (block.type === "text" && block.text !== "") yield delta({ content: block.text });
        if (block.type !== "tool_use") break;
        const index = toolIndex.size;
        toolIndex.set(event.index, index);
        // Blocks usually start with `input: {}` and stream the arguments; a full input is sent whole.
        const initial = Object.keys(block.input ?? {}).length > 0 ? stringifyToolInput(block.input) : "";
        yield delta({
          tool_calls: [
            { index, id: block.id, type: "function", function: { name: block.name, arguments: initial } },
          ],
        });
        break;
      }
      case "content_block_delta": {
        const change = event.delta;
        if (change.type === "text_delta") yield delta({ content: change.text });
        else if (change.type === "input_json_delta") {
          const index = toolIndex.get(event.index);
          if (index !== undefined && change.partial_json !== "") {
            yield delta({ tool_calls: [{ index, function: { arguments: change.partial_json } }] });
          }
        }
        break;
      }
      case "message_delta": {
        usage = mergeUsage(usage, event.usage);
        yield delta({}, anthropicStopToOpenai(event.delta.stop_reason) ?? "stop");
        const final = normalizeUsage("anthropic", usage);
        if (final && !finished) options.onUsage?.(final);
        if (options.includeUsage) yield frame([], { usage: anthropicUsageToChat(usage) });
        finished = true;
        break;
      }
      case "message_stop":
        yield DONE;
        ended = true;
        break;
      case "error":
        yield errorFrame(event.error.message, event.error.type);
        ended = true;
        break;
      default:
        break;
    }
  }
  if (ended) return;
  // message_delta carried the whole answer; a lost message_stop does not make it incomplete.
  if (finished) yield DONE;
  else yield errorFrame("the upstream stream ended before the message was complete", "api_error");
}

/** Later usage objects repeat or refine counts; only numbers overwrite. */
function mergeUsage(
  into: Partial<AnthropicUsage>,
  from: Partial<AnthropicUsage> | undefined,
): Partial<AnthropicUsage> {
  const out = { ...into };
  for (const key of [
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
  ] as const) {
    const value = from?.[key];
    if (typeof value === "number") out[key] = value;
  }
  return out;
}

/** OpenAI reports a failure inside a stream as a data frame holding an error body, with no `[DONE]`. */
function errorFrame(message: string, type: string): string {
  const body: ChatErrorBody = { error: { message, type: openaiTypeFor(type), param: null, code: null } };
  return encodeSse(JSON.stringify(body));
}

function openaiTypeFor(anthropicType: string): string {
  if (anthropicType === "rate_limit_error") return "rate_limit_exceeded";
  if (anthropicType === "invalid_request_error") return "invalid_request_error";
  return "server_error";
}
