/** Test helpers for stream transforms: a source the test feeds by hand, byte splitting, output decoding. */
import { parseSse, type SseEvent } from "../../../src/gateway/protocols/sse.ts";

/** An async iterable the test pushes into; `ended` tells whether the consumer is done with it. */
export type ControlledSource<T> = {
  iterable: AsyncIterable<T>;
  push(value: T): void;
  end(): void;
  readonly ended: boolean;
};

export function controlledSource<T>(): ControlledSource<T> {
  const queue: T[] = [];
  let waiting: ((result: IteratorResult<T, undefined>) => void) | undefined;
  let ended = false;
  const iterator: AsyncIterator<T, undefined> = {
    next() {
      const value = queue.shift();
      if (value !== undefined) return Promise.resolve({ value, done: false });
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return() {
      ended = true;
      return Promise.resolve({ value: undefined, done: true });
    },
  };
  return {
    iterable: { [Symbol.asyncIterator]: () => iterator },
    push(value) {
      const resolve = waiting;
      waiting = undefined;
      if (resolve) resolve({ value, done: false });
      else queue.push(value);
    },
    end() {
      ended = true;
      const resolve = waiting;
      waiting = undefined;
      resolve?.({ value: undefined, done: true });
    },
    get ended() {
      return ended;
    },
  };
}

/** The next value, or a failure after `ms` (a guard: a buffering transform would hang here). */
export async function nextWithin<T>(iterator: AsyncIterator<T>, ms = 2000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no output within ${ms} ms: the transform is buffering`)), ms);
  });
  try {
    const result = await Promise.race([iterator.next(), timeout]);
    if (result.done) throw new Error("the transform ended early");
    return result.value;
  } finally {
    clearTimeout(timer);
  }
}

/** The UTF-8 bytes of `text` cut into chunks whose sizes cycle through `sizes`. */
export function splitBytes(text: string, sizes: readonly number[]): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const chunks: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** Byte-chunk patterns that cut through multi-byte characters, `data:` prefixes and CRLF pairs. */
export const AWKWARD_SPLITS: readonly (readonly number[])[] = [[1], [2, 3, 5, 7, 11], [13, 1, 64, 2], [4096]];

export async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/** A transform's output frames, decoded back into `{ event, json }` (json is the raw text for `[DONE]`). */
export async function decodeFrames(
  output: AsyncIterable<string>,
): Promise<{ event?: string; json: unknown }[]> {
  const text = (await collect(output)).join("");
  const frames: SseEvent[] = await collect(parseSse(fromArray([text])));
  return frames.map((frame) => ({
    ...(frame.event ? { event: frame.event } : {}),
    json: frame.data === "[DONE]" ? "[DONE]" : (JSON.parse(frame.data) as unknown),
  }));
}

/** Narrows a decoded frame's JSON for property access in assertions. */
export function obj(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null) throw new Error(`not an object: ${String(value)}`);
  return value as Record<string, unknown>;
}
