/** Tool-call arguments: OpenAI carries JSON text, Anthropic an object. */

/** Tool-call arguments are JSON text; Anthropic wants an object. Empty or broken JSON becomes `{}`. */
export function parseToolArguments(text: string | undefined): Record<string, unknown> {
  if (!text || text.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** The object form back to JSON text; `{}` for an empty input, as OpenAI models write it. */
export function stringifyToolInput(input: unknown): string {
  return JSON.stringify(input ?? {});
}
