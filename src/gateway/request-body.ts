/**
 * An agent's request body read whole under the gateway's cap, and waiting for an answer's socket to drain.
 * A body over the cap is refused as soon as it passes it (or at once, when its Content-Length says so); what
 * follows is read and dropped for up to 1 MB, so a slightly large body leaves the connection usable, and past
 * that the connection is closed, so a 1 GB upload costs nothing but the time to notice.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

const DRAIN_LIMIT = 1024 * 1024; // bytes of a refused body read and dropped before the connection is closed

/** The agent left, or broke its request, before the body was whole (node:http has answered 400 if it could). */
export class ClientGone extends Error {
  constructor() {
    super("the agent closed the connection in the middle of its request");
    this.name = "ClientGone";
  }
}

/** Whether the request's Content-Length is already over `limit`. */
export function declaredOverCap(req: IncomingMessage, limit: number): boolean {
  const declared = req.headers["content-length"];
  return declared !== undefined && Number(declared) > limit;
}

/** Reads and drops the rest of a refused body; closes the connection once more than DRAIN_LIMIT arrives. */
function dropRest(req: IncomingMessage): void {
  let dropped = 0;
  req.removeAllListeners("data");
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_LIMIT) req.socket.destroy();
  });
  req.resume();
}

/** The whole body; undefined once it is over `limit` bytes (the caller answers 413). Rejects with ClientGone. */
export function readCappedBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (declaredOverCap(req, limit)) {
    dropRest(req);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      chunks.length = 0;
      stop();
      dropRest(req);
      resolve(undefined);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onGone = () => {
      stop();
      reject(new ClientGone());
    };
    const stop = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onGone);
      req.off("close", onGone);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onGone);
    req.on("close", onGone);
  });
}

/** Resolves once the answer's socket has room again after write() said false, or the connection is gone. */
export function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed || !res.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
