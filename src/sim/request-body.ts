/** A simulator request's body as text, read with plain stream events (no async iterator: it runs on every request). */
import type { IncomingMessage } from "node:http";

/** The whole body, decoded once, so a UTF-8 character split across two chunks stays whole. */
export function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () =>
      resolve((chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString("utf8")),
    );
    req.once("error", reject);
  });
}

/** The body as a JSON object; undefined when it is not JSON or not an object. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const text = await readText(req);
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
