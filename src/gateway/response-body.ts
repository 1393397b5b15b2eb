/**
 * An upstream answer's body as undici hands it over, chunk by chunk: read whole with `text()` (every
 * non-streamed answer) or iterated as it arrives (streams), decompressed either way. A reader that falls
 * behind pauses the upstream connection rather than letting chunks pile up.
 */
import type { Dispatcher } from "undici";

export interface ResponseBody extends AsyncIterable<Uint8Array> {
  push(chunk: Buffer): void;
  end(): void;
  fail(err: Error): void;
  /** The whole body as UTF-8 text; rejects if the body broke off. */
  text(): Promise<string>;
}

const HIGH_WATER = 64 * 1024; // bytes held for a slow reader before the upstream is paused

function decompressor(encoding: string) {
  const zlib = process.getBuiltinModule("node:zlib");
  if (encoding === "gzip") return { whole: zlib.gunzipSync, stream: zlib.createGunzip };
  if (encoding === "br") return { whole: zlib.brotliDecompressSync, stream: zlib.createBrotliDecompress };
  if (encoding === "deflate") return { whole: zlib.inflateSync, stream: zlib.createInflate };
  return undefined;
}

export function createResponseBody(
  controller: Dispatcher.DispatchController,
  encoding: string | undefined,
): ResponseBody {
  const chunks: Buffer[] = [];
  let buffered = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let whole = false; // text() wants everything: no pausing from then on
  const notify = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  const settled = () => new Promise<void>((resolve) => (wake = resolve));

  async function* raw(): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = chunks.shift();
      if (chunk) {
        buffered -= chunk.length;
        if (controller.paused && buffered < HIGH_WATER) controller.resume();
        yield chunk;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await settled();
    }
  }

  const codec = encoding ? decompressor(encoding) : undefined;
  return {
    push(chunk) {
      chunks.push(chunk);
      buffered += chunk.length;
      if (!whole && buffered >= HIGH_WATER && !controller.paused) controller.pause();
      notify();
    },
    end() {
      ended = true;
      notify();
    },
    fail(err) {
      failure ??= err;
      notify();
    },
    async text() {
      whole = true;
      if (controller.paused) controller.resume();
      while (!ended && !failure) await settled();
      if (failure) throw failure;
      const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      chunks.length = 0;
      return (codec ? codec.whole(all) : all).toString("utf8");
    },
    [Symbol.asyncIterator]() {
      if (!codec) return raw();
      const { Readable } = process.getBuiltinModule("node:stream");
      return Readable.from(raw()).pipe(codec.stream())[Symbol.asyncIterator]();
    },
  };
}
