/** Upstream stream frames decoded into typed events, with just enough narrowing to trust their shape. */
import type { AnthropicStreamEvent } from "./anthropic-types.ts";
import type { ChatCompletionChunk } from "./openai-types.ts";
import type { SseEvent } from "./sse.ts";
import type { TokenUsage } from "./usage.ts";

/** Options every stream transform takes. */
export type StreamTransformOptions = {
  /** The model name the client asked for, written into every event. */
  model: string;
  /** Called once with the final usage the upstream reported; never called when it reported none. */
  onUsage?: (usage: TokenUsage) => void;
};

function parseObject(data: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** An Anthropic stream frame, or `undefined` for a frame that is not JSON with a `type`. */
export function readAnthropicEvent(sse: SseEvent): AnthropicStreamEvent | undefined {
  const value = parseObject(sse.data);
  if (!value || typeof value.type !== "string") return undefined;
  return value as AnthropicStreamEvent;
}

/** What one OpenAI stream frame holds. */
export type ChatStreamItem =
  | { kind: "chunk"; chunk: ChatCompletionChunk }
  | { kind: "error"; message: string; type: string; code: string | null }
  | { kind: "done" };

/** An OpenAI stream frame: a chunk, an in-stream error, or the `[DONE]` sentinel; `undefined` if none. */
export function readChatFrame(sse: SseEvent): ChatStreamItem | undefined {
  if (sse.data.trim() === "[DONE]") return { kind: "done" };
  const value = parseObject(sse.data);
  if (!value) return undefined;
  const error = value.error;
  if (typeof error === "object" && error !== null) {
    const fields = error as Record<string, unknown>;
    return {
      kind: "error",
      message: typeof fields.message === "string" ? fields.message : "upstream error",
      type: typeof fields.type === "string" ? fields.type : "server_error",
      code: typeof fields.code === "string" ? fields.code : null,
    };
  }
  if (!Array.isArray(value.choices)) value.choices = [];
  return { kind: "chunk", chunk: value as ChatCompletionChunk };
}
