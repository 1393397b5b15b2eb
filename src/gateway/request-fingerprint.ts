/**
 * A cheap fingerprint of a request for oversight's loop check: a hash of its last message only (a tool
 * result or the user's turn), so near-identical requests of an agent stuck on one tool call match.
 */
import { hash } from "node:crypto";

/** 16 hex digits of SHA-1 over the last message, or null when the body has no messages. */
export function requestFingerprint(body: Record<string, unknown>): string | null {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return null;
  const last: unknown = messages[messages.length - 1];
  const text = typeof last === "string" ? last : JSON.stringify(last);
  return hash("sha1", text ?? "", "hex").slice(0, 16);
}
