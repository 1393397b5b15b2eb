/** Bearer tokens on the control API: read from the header and compared without node:crypto (the daemon stays lean). */
import type { IncomingMessage } from "node:http";

/** The request's bearer token, or "" when there is none. */
export function bearerOf(req: IncomingMessage): string {
  const header = req.headers.authorization ?? "";
  return header.startsWith("Bearer ") ? header.slice(7) : "";
}

/** Whether `given` equals `expected`, in time that depends only on the expected length (no secret). */
export function sameText(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++)
    diff |= expected.charCodeAt(i) ^ given.charCodeAt(i % Math.max(1, given.length));
  return diff === 0;
}
