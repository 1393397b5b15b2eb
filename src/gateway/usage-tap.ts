/**
 * Finds the usage in a stream that passes through unchanged: scans SSE `data:` lines as bytes go by and
 * keeps the last usage object seen (OpenAI's final usage chunk, Anthropic's message_start/message_delta).
 */
import type { Usage } from "./accounting.ts";

export type WireFormat = "openai" | "anthropic";

function usageFrom(
  format: WireFormat,
  payload: Record<string, unknown>,
  last: Usage | undefined,
): Usage | undefined {
  if (format === "openai") {
    const usage = payload.usage as { prompt_tokens?: number; completion_tokens?: number } | null | undefined;
    if (!usage) return last;
    return { inputTokens: usage.prompt_tokens ?? 0, outputTokens: usage.completion_tokens ?? 0 };
  }
  const message = payload.message as
    { usage?: { input_tokens?: number; output_tokens?: number } } | undefined;
  const usage = (payload.usage ?? message?.usage) as
    { input_tokens?: number; output_tokens?: number } | undefined;
  if (!usage) return last;
  return {
    inputTokens: usage.input_tokens ?? last?.inputTokens ?? 0,
    outputTokens: usage.output_tokens ?? last?.outputTokens ?? 0,
  };
}

export function createUsageTap(format: WireFormat) {
  const decoder = new TextDecoder();
  let pending = "";
  let usage: Usage | undefined;
  return {
    push(chunk: Uint8Array): void {
      pending += decoder.decode(chunk, { stream: true });
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        const line = pending.slice(0, newline).trimEnd();
        pending = pending.slice(newline + 1);
        if (line.startsWith("data:") && line.includes('"usage"')) {
          try {
            usage = usageFrom(format, JSON.parse(line.slice(5)) as Record<string, unknown>, usage);
          } catch {
            // not JSON: the stream's problem, not the accounting's
          }
        }
        newline = pending.indexOf("\n");
      }
    },
    usage(): Usage | undefined {
      return usage;
    },
  };
}
