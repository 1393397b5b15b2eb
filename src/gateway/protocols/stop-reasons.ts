/** Finish-reason mapping between OpenAI chat, Anthropic and Responses statuses. */
import type { AnthropicStopReason } from "./anthropic-types.ts";
import type { ChatFinishReason } from "./openai-types.ts";

/** Anthropic stop reason → OpenAI finish reason; `null` (still running) stays `null`. */
export function anthropicStopToOpenai(
  reason: AnthropicStopReason | null | undefined,
): ChatFinishReason | null {
  switch (reason) {
    case undefined:
    case null:
      return null;
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    // end_turn, stop_sequence and pause_turn all end the turn with text the client may show.
    default:
      return "stop";
  }
}

/** OpenAI finish reason → Anthropic stop reason. */
export function openaiFinishToAnthropic(
  reason: ChatFinishReason | null | undefined,
): AnthropicStopReason | null {
  switch (reason) {
    case undefined:
    case null:
      return null;
    case "length":
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return "end_turn";
  }
}

/** Finish reasons that leave a Responses answer incomplete, with the reason the Responses API gives. */
const INCOMPLETE: Partial<Record<ChatFinishReason, string>> = {
  length: "max_output_tokens",
  content_filter: "content_filter",
};

/** OpenAI finish reason → Responses status and `incomplete_details`. */
export function openaiFinishToResponses(reason: ChatFinishReason | null | undefined): {
  status: "completed" | "incomplete";
  incomplete_details: { reason: string } | null;
} {
  const incomplete = reason ? INCOMPLETE[reason] : undefined;
  return incomplete
    ? { status: "incomplete", incomplete_details: { reason: incomplete } }
    : { status: "completed", incomplete_details: null };
}
