/** A simulator request's body as text or as a JSON object. */
import type { IncomingMessage } from "node:http";
import { readBody } from "../read-body.ts";

/** The whole body as text, decoded once, so a UTF-8 character split across two chunks stays whole. */
export async function readText(req: IncomingMessage): Promise<string> {
  return ((await readBody(req)) as Buffer).toString("utf8");
}

/** The body as a JSON object; undefined when it is not JSON or not an object. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  return (await readJsonRequest(req)).body;
}

/**
 * The body as a JSON object (undefined when it is not one) and its length in characters, which the simulator
 * counts tokens from: encoding the prompt again to measure it cost more than the rest of a request.
 */
export async function readJsonRequest(
  req: IncomingMessage,
): Promise<{ body: Record<string, unknown> | undefined; chars: number }> {
  const text = await readText(req);
  try {
    const value: unknown = JSON.parse(text);
    const body =
      value && typeof value === "object" && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
    return { body, chars: text.length };
  } catch {
    return { body: undefined, chars: text.length };
  }
}
