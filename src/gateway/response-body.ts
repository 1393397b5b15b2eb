/**
 * An upstream answer's body as its connection hands it over, chunk by chunk: read whole with `text()` (every
 * non-streamed answer) or iterated as it arrives (streams), decompressed either way. A reader that falls
 * behind pauses the upstream connection rather than letting chunks pile up.
 */

/** Pausing and resuming the connection the body arrives on. */
export interface FlowControl {
  readonly paused: boolean;
  pause(): void;
  resume(): void;
}

const HIGH_WATER = 64 * 1024; // bytes held for a slow reader before the upstream is paused

function decompressor(encoding: string | undefined) {
  if (encoding !== "gzip" && encoding !== "br" && encoding !== "deflate") return undefined;
  const zlib = process.getBuiltinModule("node:zlib");
  if (encoding === "gzip") return { whole: zlib.gunzipSync, stream: zlib.createGunzip };
  if (encoding === "br") return { whole: zlib.brotliDecompressSync, stream: zlib.createBrotliDecompress };
  return { whole: zlib.inflateSync, stream: zlib.createInflate };
}

export class ResponseBody implements AsyncIterable<Uint8Array> {
  readonly #controller: FlowControl;
  readonly #codec: ReturnType<typeof decompressor>;
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  #whole = false; // text() wants everything: no pausing from then on

  constructor(controller: FlowControl, encoding: string | undefined) {
    this.#controller = controller;
    this.#codec = decompressor(encoding);
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (!this.#whole && this.#buffered >= HIGH_WATER && !this.#controller.paused) this.#controller.pause();
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  fail(err: Error): void {
    this.#failure ??= err;
    this.#notify();
  }

  /** The whole body as UTF-8 text; rejects if the body broke off. */
  async text(): Promise<string> {
    return (await this.bytes()).toString("utf8");
  }

  /** The whole body, decompressed; rejects if the body broke off. */
  async bytes(): Promise<Buffer> {
    this.#whole = true;
    if (this.#controller.paused) this.#controller.resume();
    while (!this.#ended && !this.#failure) await this.#next();
    if (this.#failure) throw this.#failure;
    const chunks = this.#chunks;
    const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    chunks.length = 0;
    return this.#codec ? this.#codec.whole(all) : all;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (!this.#codec) return this.#raw();
    const { Readable } = process.getBuiltinModule("node:stream");
    return Readable.from(this.#raw()).pipe(this.#codec.stream())[Symbol.asyncIterator]();
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

  #next(): Promise<void> {
    return new Promise((resolve) => (this.#wake = resolve));
  }

  #notify(): void {
    const waiting = this.#wake;
    this.#wake = undefined;
    waiting?.();
  }
}
