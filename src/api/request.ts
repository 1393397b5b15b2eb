/** Reading control API requests: the bearer token (compared without node:crypto, so the daemon stays lean) and JSON bodies. */
import type { IncomingMessage } from "node:http";
import { FlotillaError } from "../errors.ts";
import { readBody } from "../read-body.ts";

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

/** Reads a JSON request body of at most `maxBytes` (default 4 MB); a bad body is a 400 (413 when too big). */
export async function readJson(req: IncomingMessage, maxBytes = 4 * 1024 * 1024): Promise<unknown> {
  const body = await readBody(req, maxBytes);
  if (!body)
    throw new FlotillaError("FLOTILLA_E_USAGE", `request body over ${maxBytes} bytes`, { status: 413 });
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new FlotillaError("FLOTILLA_E_USAGE", "request body is not JSON");
  }
}
