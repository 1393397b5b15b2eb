/** Server-sent events: a streaming parser over byte or text chunks, and the matching encoder. */

/** One dispatched event: `data` lines joined by "\n"; `event` when the frame named one. */
export type SseEvent = { event?: string; data: string };

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Parses an SSE byte stream as it arrives, per the WHATWG rules: LF, CR or CRLF line ends (even when
 * a CRLF is split across chunks), comments (`:`), multi-line `data`, one optional space after the
 * colon, UTF-8 split across chunks. `id` and `retry` are ignored. Unlike a browser, a last frame
 * without its blank line is still dispatched when the stream ends: upstreams do send that.
 */
export async function* parseSse(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const frame = new FrameBuilder();
  let buffer = "";
  for await (const chunk of source) {
    buffer += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (;;) {
      const end = nextLineEnd(buffer, start);
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (end === -1 || (buffer[end] === "\r" && end === buffer.length - 1)) break;
      const event = frame.line(buffer.slice(start, end));
      start = end + (buffer[end] === "\r" && buffer[end + 1] === "\n" ? 2 : 1);
      if (event) yield event;
    }
    buffer = buffer.slice(start);
  }
  buffer += decoder.decode();
  for (const line of buffer.split(LINE_BREAK)) {
    const event = frame.line(line);
    if (event) yield event;
  }
  const last = frame.line("");
  if (last) yield last;
}

function nextLineEnd(text: string, from: number): number {
  const lf = text.indexOf("\n", from);
  const cr = text.indexOf("\r", from);
  if (cr === -1) return lf;
  if (lf === -1) return cr;
  return Math.min(cr, lf);
}

/** Collects the fields of one frame; a blank line dispatches it. */
class FrameBuilder {
  #event: string | undefined;
  #data: string[] = [];

  line(line: string): SseEvent | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const event = this.#event;
    const data = this.#data;
    this.#event = undefined;
    this.#data = [];
    // A frame without data is not an event (WHATWG); it only resets the event name.
    if (data.length === 0) return undefined;
    return event ? { event, data: data.join("\n") } : { data: data.join("\n") };
  }
}

/** One SSE frame: `event:` when given, a `data:` line per line of `data`, then the blank line. */
export function encodeSse(data: string, event?: string): string {
  const head = event ? `event: ${event}\n` : "";
  return `${head}data: ${data.split(LINE_BREAK).join("\ndata: ")}\n\n`;
}
