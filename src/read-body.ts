/**
 * A request body read whole, with plain stream events (no async iterator: the simulator reads one on every
 * request). Shared by the simulator and the control API; the gateway's own server reads its bodies itself.
 */
import type { IncomingMessage } from "node:http";

/** The body, or undefined once it passes `limit` bytes (the rest is drained, not kept). */
export function readBody(
  req: IncomingMessage,
  limit = Number.POSITIVE_INFINITY,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off("data", onData);
      req.resume();
      resolve(undefined);
    };
    req.on("data", onData);
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}
