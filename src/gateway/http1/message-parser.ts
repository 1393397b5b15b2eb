/**
 * HTTP/1.1 message parsers fed the bytes of one connection as they arrive: a response (an upstream's answer)
 * or a request (an agent's call to the gateway). The start line and headers, then the body framed by
 * Content-Length, chunked transfer coding, or (answers only) the connection's close. Strict where a proxy
 * must be (one framing, no folded headers, bounded head and chunk lines), since the bytes come from outside.
 */
import {
  type Grammar,
  HeadTooLarge,
  impossibleStart,
  ProtocolError,
  REQUEST,
  type RequestHead,
  RESPONSE,
  type ResponseHead,
} from "./message-heads.ts";

export interface ParserEvents<H> {
  onHead(head: H): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
}

const MAX_HEAD = 64 * 1024;
const MAX_LINE = 4 * 1024; // a chunk-size or trailer line
const HEAD_END = Buffer.from("\r\n\r\n");
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,12})(?:[ \t]*;[^\r\n]*)?$/;

// Where the parser is in the message.
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

class MessageParser<H extends { reusable: boolean }> {
  readonly #grammar: Grammar<H>;
  readonly #events: ParserEvents<H>;
  #state: State = State.Head;
  #pending: Buffer | undefined; // an unfinished head or line
  #remaining = 0; // body or chunk bytes still to come
  #reusable = false;

  constructor(grammar: Grammar<H>, events: ParserEvents<H>) {
    this.#grammar = grammar;
    this.#events = events;
  }

  /** The message is complete. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** Nothing of a message has arrived yet. */
  get idle(): boolean {
    return this.#state === State.Head && this.#pending === undefined;
  }

  /** The connection may carry another message (meaningful once done). */
  get reusable(): boolean {
    return this.#reusable;
  }

  /**
   * Feeds the next bytes; returns how many belong to a following message (for an answer, a server that
   * pipelines unasked; for a request, the client's next request). Throws ProtocolError on a broken message.
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

  /** The connection ended: completes a message framed by the close, else the message was cut short. */
  eof(): void {
    if (this.#state === State.UntilClose) return this.#finish();
    if (this.#state === State.Done) return;
    throw new ProtocolError(
      this.idle
        ? `the connection closed before ${this.#grammar.one}`
        : `the connection closed in the middle of the ${this.#grammar.noun}`,
    );
  }

  #head(data: Buffer, at: number): number {
    const joined = this.#pending ? Buffer.concat([this.#pending, data.subarray(at)]) : data.subarray(at);
    const end = joined.indexOf(HEAD_END);
    const tooLong = `the ${this.#grammar.noun}'s headers exceed ${MAX_HEAD} bytes`;
    if (end < 0) {
      if (joined.length > MAX_HEAD) throw new HeadTooLarge(tooLong);
      if (impossibleStart(joined)) throw new ProtocolError(this.#grammar.badStart);
      this.#pending = Buffer.from(joined); // copied: the socket may reuse its buffer
      return data.length;
    }
    if (end > MAX_HEAD) throw new HeadTooLarge(tooLong);
    const consumed = end + 4 - (this.#pending?.length ?? 0);
    this.#pending = undefined;
    const head = this.#grammar.head(joined.toString("latin1", 0, end));
    if (head === undefined) return at + consumed;
    const framing = this.#grammar.framing(head);
    this.#reusable = head.reusable;
    if (framing === "chunked") this.#state = State.ChunkSize;
    else if (framing === "close") this.#state = State.UntilClose;
    else {
      this.#remaining = framing;
      this.#state = framing === 0 ? State.Done : State.Length;
    }
    this.#events.onHead(head);
    if (this.#state === State.Done) this.#events.onEnd();
    return at + consumed;
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

/** An upstream's answer on a connection the gateway opened. */
export class ResponseParser extends MessageParser<ResponseHead> {
  constructor(events: ParserEvents<ResponseHead>) {
    super(RESPONSE, events);
  }
}

/** An agent's request on a connection to the gateway. */
export class RequestParser extends MessageParser<RequestHead> {
  constructor(events: ParserEvents<RequestHead>) {
    super(REQUEST, events);
  }
}
