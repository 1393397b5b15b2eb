/** Reading control API requests: the bearer token and JSON bodies. */
import { hash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { FlotillaError } from "../errors.ts";
import { readBody } from "../read-body.ts";

/** The request's bearer token, or "" when there is none. */
export function bearerOf(req: IncomingMessage): string {
  const header = req.headers.authorization ?? "";
  return header.startsWith("Bearer ") ? header.slice(7) : "";
}

/** Whether `given` equals `expected`, compared in constant time over SHA-256 digests (node:crypto). */
export function sameSecret(given: string, expected: string): boolean {
  if (!given || !expected) return false;
  return timingSafeEqual(hash("sha256", given, "buffer"), hash("sha256", expected, "buffer"));
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
