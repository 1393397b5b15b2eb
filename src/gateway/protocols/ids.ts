/** Identifiers minted by translations, and the one rule Anthropic puts on tool-use ids. */
import { randomUUID } from "node:crypto";

/** A fresh id with a protocol's prefix: `msg_`, `resp_`, `fc_`, `chatcmpl-`, `toolu_`. */
export function newId(prefix: string): string {
  return prefix + randomUUID().replaceAll("-", "");
}

/**
 * Anthropic accepts tool-use ids matching `^[a-zA-Z0-9_-]+$`; other providers mint ids such as
 * `functions.read:0`. The same mapping is applied to `tool_use.id` and `tool_result.tool_use_id`,
 * so a call and its result stay paired.
 */
export function anthropicToolId(id: string): string {
  const safe = id.replace(/[^a-zA-Z0-9_-]/g, "_");
  return safe === "" ? "toolu_empty" : safe;
}

/** Seconds since the epoch, as OpenAI's `created` and the Responses `created_at` carry. */
export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
