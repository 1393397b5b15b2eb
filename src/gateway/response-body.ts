/**
 * An upstream answer's body as undici hands it over, chunk by chunk: read whole with `text()` or `bytes()`
 * (every non-streamed answer) or iterated as it arrives (streams). A reader that falls behind pauses the
 * upstream connection rather than letting chunks pile up. A compressed body is inflated as a stream (zlib
 * works off the main thread), and what is read whole, or inflated, stops at a size cap: the connection is
 * dropped and the read fails with ResponseTooLarge.
 */
import type { Transform } from "node:stream";

/** Pausing, resuming and dropping the connection the body arrives on (undici's DispatchController). */
export interface FlowControl {
  readonly paused: boolean;
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
}

/** The body passed the size cap (gateway.maxResponseSize). */
export class ResponseTooLarge extends Error {
  constructor(limit: number) {
    super(`the answer is over the ${limit}-byte limit (gateway.maxResponseSize)`);
    this.name = "ResponseTooLarge";
  }
}

const HIGH_WATER = 64 * 1024; // bytes held for a slow reader before the upstream is paused

function inflater(encoding: string | undefined): (() => Transform) | undefined {
  const zlib = process.getBuiltinModule("node:zlib");
  if (encoding === "gzip" || encoding === "x-gzip") return () => zlib.createGunzip();
  if (encoding === "br") return () => zlib.createBrotliDecompress();
  if (encoding === "deflate") return () => zlib.createInflate();
  if (encoding === "zstd") return () => zlib.createZstdDecompress();
  return undefined;
}

export class ResponseBody implements AsyncIterable<Uint8Array> {
  readonly #controller: FlowControl;
  readonly #inflater: (() => Transform) | undefined;
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  #received = 0;
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  #whole = false; // read whole, uncompressed: no pausing from then on, and the cap counts every byte

  /** `limit`: the most bytes read whole or inflated, whichever applies. */
  constructor(controller: FlowControl, encoding: string | undefined, limit: number) {
    this.#controller = controller;
    this.#inflater = inflater(encoding);
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    if (this.#failure) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    this.#received += chunk.length;
    if (this.#whole && this.#received > this.#limit) return this.#tooLarge();
    if (!this.#whole && this.#buffered >= HIGH_WATER && !this.#controller.paused) this.#controller.pause();
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  fail(err: Error): void {
    this.#failure ??= err;
    this.#chunks.length = 0;
    this.#notify();
  }

  /** Resolves once the first bytes are in or the body ended; rejects if it broke off before any came. */
  async started(): Promise<void> {
    while (this.#chunks.length === 0 && !this.#ended && !this.#failure) await this.#next();
    if (this.#chunks.length === 0 && this.#failure) throw this.#failure;
  }

  /** The whole body as UTF-8 text; rejects if the body broke off or passed the cap. */
  async text(): Promise<string> {
    return (await this.bytes()).toString("utf8");
  }

  /** The whole body, inflated; rejects if the body broke off or passed the cap. */
  async bytes(): Promise<Buffer> {
    if (this.#inflater) {
      // zlib pulls the raw bytes at its pace (pausing the upstream as a slow reader would); the cap is on its output.
      const parts: Uint8Array[] = [];
      for await (const part of this) parts.push(part);
      return Buffer.concat(parts);
    }
    this.#whole = true;
    if (this.#received > this.#limit) this.#tooLarge();
    if (this.#controller.paused) this.#controller.resume();
    while (!this.#ended && !this.#failure) await this.#next();
    if (this.#failure) throw this.#failure;
    const chunks = this.#chunks;
    const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    chunks.length = 0;
    return all;
  }

  /** The chunks as they come (inflated, under the cap, when the body is compressed). */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#inflater ? this.#inflated(this.#inflater()) : this.#raw();
  }

  async *#inflated(codec: Transform): AsyncGenerator<Uint8Array> {
    const { Readable, pipeline } = process.getBuiltinModule("node:stream");
    pipeline(Readable.from(this.#raw()), codec, () => {});
    let size = 0;
    for await (const part of codec as AsyncIterable<Buffer>) {
      size += part.length;
      if (size > this.#limit) {
        codec.destroy();
        this.#tooLarge();
        throw this.#failure;
      }
      yield part;
    }
  }

  async *#raw(): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk) {
        this.#buffered -= chunk.length;
        if (this.#controller.paused && this.#buffered < HIGH_WATER) this.#controller.resume();
        yield chunk;
        continue;
      }
      if (this.#failure) throw this.#failure;
      if (this.#ended) return;
      await this.#next();
    }
  }

  /** Drops the upstream connection and fails the read. */
  #tooLarge(): void {
    const err = new ResponseTooLarge(this.#limit);
    this.fail(err);
    this.#controller.abort(err);
  }

  #next(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  #notify(): void {
    const waiting = this.#wake;
    this.#wake = undefined;
    waiting?.();
  }
}
