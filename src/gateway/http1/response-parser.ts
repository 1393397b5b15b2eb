/**
 * An HTTP/1.1 response parser fed the bytes of one connection as they arrive: the status line and headers,
 * then the body framed by Content-Length, chunked transfer coding, or the connection's close. Strict where a
 * proxy must be (one framing, no folded headers, bounded head and chunk lines), since the bytes come from
 * outside.
 */
import type { HeaderRecord } from "../header-record.ts";

/** The upstream broke HTTP/1.1; the connection cannot be trusted or reused. */
export class ProtocolError extends Error {
  readonly code = "HTTP_PROTOCOL";
}

export interface ResponseHead {
  status: number;
  /** Lower-cased names; a repeated header is an array in arrival order. */
  headers: HeaderRecord;
  /** The connection may carry another request once this answer is complete. */
  reusable: boolean;
  /** The server's `Keep-Alive: timeout=N`, in ms, when it sent one. */
  keepAliveMs: number | undefined;
}

export interface ParserEvents {
  onHead(head: ResponseHead): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
}

const MAX_HEAD = 64 * 1024;
const MAX_LINE = 4 * 1024; // a chunk-size or trailer line
const HEAD_END = Buffer.from("\r\n\r\n");
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,12})(?:[ \t]*;[^\r\n]*)?$/;

// Where the parser is in the answer.
const State = {
  Head: 0,
  Length: 1,
  ChunkSize: 2,
  ChunkData: 3,
  ChunkEnd: 4,
  Trailers: 5,
  UntilClose: 6,
  Done: 7,
} as const;
type State = (typeof State)[keyof typeof State];

// The characters of a header name (RFC 9110's token), by char code.
const TOKEN_CHAR = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TOKEN_CHAR[char.charCodeAt(0)] = 1;

/** An HTTP token (a header name): what both the parser and the request writer accept. */
export function isToken(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (TOKEN_CHAR[text.charCodeAt(i)] !== 1) return false;
  return text.length > 0;
}

// Header names as sent → their lower-case form. A provider sends the same few dozen names on every answer;
// a name met before skips the check and the lower-casing, and its string is already a property key.
const NAMES = new Map<string, string>();
const NAMES_KEPT = 512;

/** The lower-case name, or undefined when `raw` is not a token. */
function headerName(raw: string): string | undefined {
  const known = NAMES.get(raw);
  if (known !== undefined || !isToken(raw)) return known;
  const name = raw.toLowerCase();
  if (NAMES.size < NAMES_KEPT) NAMES.set(raw, name);
  return name;
}

function occursBefore(text: string, char: string, from: number, end: number): boolean {
  const at = text.indexOf(char, from);
  return at >= 0 && at < end;
}

/** The head without its final CRLF CRLF; lines are read in place, since this runs on every answer. */
function parseHead(text: string): ResponseHead {
  let end = text.indexOf("\r\n");
  if (end < 0) end = text.length;
  const match = STATUS_LINE.exec(text.slice(0, end));
  // Nothing the upstream sent is quoted in these errors: it must not reach an error body or the ledger.
  if (!match) throw new ProtocolError("malformed status line (not an HTTP/1.x answer)");
  const headers: HeaderRecord = {};
  for (let at = end + 2, line = 1; at < text.length; at = end + 2, line++) {
    end = text.indexOf("\r\n", at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(":", at);
    const name = colon > at && colon < end ? headerName(text.slice(at, colon)) : undefined;
    // A name of token characters, a colon, and no lone CR or LF before the line's CRLF.
    if (name === undefined || occursBefore(text, "\r", colon, end) || occursBefore(text, "\n", colon, end))
      throw new ProtocolError(`malformed header line ${line}`);
    const value = text.slice(colon + 1, end).trim();
    if (!Object.hasOwn(headers, name)) headers[name] = value;
    else {
      const seen = headers[name];
      if (Array.isArray(seen)) seen.push(value);
      else headers[name] = [seen as string, value];
    }
  }
  const { connection } = headers;
  const keepAlive = headers["keep-alive"];
  const timeout = keepAlive === undefined ? null : /timeout=(\d+)/.exec(String(keepAlive));
  return {
    status: Number(match[2]),
    headers,
    reusable: match[1] === "1" && (connection === undefined || !/close/i.test(String(connection))),
    keepAliveMs: timeout ? Number(timeout[1]) * 1000 : undefined,
  };
}

export class ResponseParser {
  readonly #events: ParserEvents;
  #state: State = State.Head;
  #pending: Buffer | undefined; // an unfinished head or line
  #remaining = 0; // body or chunk bytes still to come
  #reusable = false;

  constructor(events: ParserEvents) {
    this.#events = events;
  }

  /** The answer is complete. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** The connection may carry another request (meaningful once done). */
  get reusable(): boolean {
    return this.#reusable;
  }

  /**
   * Feeds the next bytes; returns how many belong to a following message (a server that pipelines
   * unasked: the caller closes the connection). Throws ProtocolError on a broken answer.
   */
  push(data: Buffer): number {
    let at = 0;
    while (at < data.length) {
      switch (this.#state) {
        case State.Head:
          at = this.#head(data, at);
          break;
        case State.Length:
        case State.ChunkData:
          at = this.#counted(data, at);
          break;
        case State.ChunkSize:
        case State.ChunkEnd:
        case State.Trailers:
          at = this.#line(data, at);
          break;
        case State.UntilClose:
          this.#events.onData(at === 0 ? data : data.subarray(at));
          at = data.length;
          break;
        case State.Done:
          return data.length - at;
      }
    }
    return 0;
  }

  /** Body bytes whose count is known: a Content-Length body, or one chunk's data. */
  #counted(data: Buffer, at: number): number {
    const take = Math.min(this.#remaining, data.length - at);
    this.#remaining -= take;
    this.#events.onData(data.subarray(at, at + take));
    if (this.#remaining === 0) {
      if (this.#state === State.Length) this.#finish();
      else this.#state = State.ChunkEnd;
    }
    return at + take;
  }

  /** The connection ended: completes an answer framed by the close, else the answer was cut short. */
  eof(): void {
    if (this.#state === State.UntilClose) return this.#finish();
    if (this.#state === State.Done) return;
    throw new ProtocolError(
      this.#state === State.Head && !this.#pending
        ? "the connection closed before an answer"
        : "the connection closed in the middle of the answer",
    );
  }

  #head(data: Buffer, at: number): number {
    const joined = this.#pending ? Buffer.concat([this.#pending, data.subarray(at)]) : data.subarray(at);
    const end = joined.indexOf(HEAD_END);
    if (end < 0) {
      if (joined.length > MAX_HEAD) throw new ProtocolError(`the answer's headers exceed ${MAX_HEAD} bytes`);
      this.#pending = Buffer.from(joined); // copied: the socket may reuse its buffer
      return data.length;
    }
    if (end > MAX_HEAD) throw new ProtocolError(`the answer's headers exceed ${MAX_HEAD} bytes`);
    const consumed = end + 4 - (this.#pending?.length ?? 0);
    this.#pending = undefined;
    const head = parseHead(joined.toString("latin1", 0, end));
    if (head.status < 200) {
      if (head.status === 101) throw new ProtocolError("the upstream switched protocols");
      return at + consumed; // 100 Continue, 103 Early Hints: the real answer follows
    }
    this.#frame(head);
    this.#events.onHead(head);
    if (this.#state === State.Done) this.#events.onEnd();
    return at + consumed;
  }

  /** Sets how the body is framed; an empty body leaves the parser done (the caller reports the end). */
  #frame(head: ResponseHead): void {
    this.#reusable = head.reusable;
    if (head.status === 204 || head.status === 304) {
      this.#state = State.Done;
      return;
    }
    const coding = head.headers["transfer-encoding"];
    if (coding !== undefined) {
      const codings = String(coding).toLowerCase().split(",");
      const chunked = codings[codings.length - 1]?.trim() === "chunked";
      this.#state = chunked ? State.ChunkSize : State.UntilClose;
      // Both framings at once is how requests get smuggled: answer this one, never reuse the connection.
      if (!chunked || head.headers["content-length"] !== undefined) this.#reusable = false;
      return;
    }
    const length = head.headers["content-length"];
    if (length === undefined) {
      this.#state = State.UntilClose;
      this.#reusable = false;
      return;
    }
    const values = Array.isArray(length) ? length : [length];
    const first = values[0] as string;
    if (!/^\d{1,15}$/.test(first) || values.some((value) => value !== first))
      throw new ProtocolError(
        values.length > 1 ? "conflicting content-length headers" : "invalid content-length",
      );
    this.#remaining = Number(first);
    this.#state = this.#remaining === 0 ? State.Done : State.Length;
  }

  /** A chunk-size line, the CRLF after a chunk's data, or a trailer line. */
  #line(data: Buffer, at: number): number {
    const newline = data.indexOf(10, at);
    if (newline < 0) {
      const held = (this.#pending?.length ?? 0) + data.length - at;
      if (held > MAX_LINE) throw new ProtocolError("a chunk line is too long");
      const rest = Buffer.from(data.subarray(at));
      this.#pending = this.#pending ? Buffer.concat([this.#pending, rest]) : rest;
      return data.length;
    }
    let line = data.toString("latin1", at, newline);
    if (this.#pending) {
      line = this.#pending.toString("latin1") + line;
      this.#pending = undefined;
    }
    if (line.length > MAX_LINE) throw new ProtocolError("a chunk line is too long");
    if (!line.endsWith("\r")) throw new ProtocolError("a chunk line does not end in CRLF");
    line = line.slice(0, -1);
    if (this.#state === State.ChunkEnd) {
      if (line !== "") throw new ProtocolError("a chunk is longer than its size");
      this.#state = State.ChunkSize;
    } else if (this.#state === State.ChunkSize) {
      const match = CHUNK_SIZE.exec(line);
      if (!match) throw new ProtocolError("invalid chunk size");
      this.#remaining = Number.parseInt(match[1] as string, 16);
      this.#state = this.#remaining === 0 ? State.Trailers : State.ChunkData;
    } else if (line === "") {
      this.#finish();
    }
    return newline + 1;
  }

  #finish(): void {
    this.#state = State.Done;
    this.#events.onEnd();
  }
}
