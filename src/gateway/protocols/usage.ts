/** Token usage in one shape for cost and limits, and a cheap estimate for prompts not yet sent. */

/** Tokens one request used. `inputTokens` counts every prompt token, cached or not. */
export type TokenUsage = { inputTokens: number; outputTokens: number };

export type UsageFormat = "openai" | "anthropic" | "responses";

function count(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * Reads a protocol's usage object: OpenAI `prompt_tokens`/`completion_tokens`, Anthropic
 * `input_tokens` plus cache writes and reads (which Anthropic counts apart) and `output_tokens`,
 * Responses `input_tokens`/`output_tokens`. `undefined` when the object carries no counts.
 */
export function normalizeUsage(format: UsageFormat, usage: unknown): TokenUsage | undefined {
  if (typeof usage !== "object" || usage === null) return undefined;
  const record = usage as Record<string, unknown>;
  if (format === "openai") {
    const input = count(record, "prompt_tokens");
    const output = count(record, "completion_tokens");
    if (input === undefined && output === undefined) return undefined;
    return { inputTokens: input ?? 0, outputTokens: output ?? 0 };
  }
  const input = count(record, "input_tokens");
  const output = count(record, "output_tokens");
  if (input === undefined && output === undefined) return undefined;
  const cached =
    format === "anthropic"
      ? (count(record, "cache_creation_input_tokens") ?? 0) + (count(record, "cache_read_input_tokens") ?? 0)
      : 0;
  return { inputTokens: (input ?? 0) + cached, outputTokens: output ?? 0 };
}

const CHARS_PER_TOKEN = 4;

/**
 * About how many tokens a body holds: its JSON length / 4. No tokenizer, on purpose: it runs on every
 * request before routing. Pass the raw text or bytes when you have them; that costs nothing.
 */
export function estimateTokens(body: unknown): number {
  let chars: number;
  if (typeof body === "string") chars = body.length;
  else if (body instanceof Uint8Array) chars = body.byteLength;
  else if (body === undefined) chars = 0;
  else chars = JSON.stringify(body)?.length ?? 0;
  return Math.ceil(chars / CHARS_PER_TOKEN);
}
