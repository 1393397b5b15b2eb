/**
 * One answer from the gateway's HTTP/1.1 server, driven the way node:http's ServerResponse is (writeHead,
 * then write and end): the head is built once, header lines checked when given, and sent with the first
 * bytes of the body in one write; a body is sized when end() carries it whole, chunked when streamed.
 */
import { isFieldValue, isToken, type RequestHead } from "./message-heads.ts";

const { STATUS_CODES } = process.getBuiltinModule("node:http");

/** What an answer needs of its connection. */
export interface AnswerConnection {
  /** The `keep-alive: timeout=N` line every kept-alive answer carries. */
  readonly keepAliveLine: string;
  /** Writes the text (latin1), then the body and tail if any, in one go; false when the buffer is full. */
  send(text: string, body: string | Uint8Array | undefined, tail: string | undefined): boolean;
  /** The answer is finished. */
  answered(response: Http1Response): void;
  drained(): Promise<void>;
  destroy(): void;
}

// The Date header, rebuilt at most once a second.
let dateText = "";
let dateSecond = 0;
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

const CRLF = "\r\n";
const LAST_CHUNK = "0\r\n\r\n";

export class Http1Response {
  readonly #connection: AnswerConnection;
  readonly #bodyless: boolean; // a HEAD request: the head only
  readonly #http10: boolean; // no chunked answers: an unsized body runs to the close
  #status = 200;
  #lines = ""; // the handler's header lines, checked when given
  #sized = false; // the handler set content-length
  #connectionSet = false; // the handler set connection
  #chunked = false;
  #onClose: (() => void) | undefined;
  headersSent = false;
  writableFinished = false;
  /** The connection closes after this answer (the client or the handler asked). */
  closes: boolean;

  constructor(connection: AnswerConnection, head: RequestHead) {
    this.#connection = connection;
    this.#bodyless = head.method === "HEAD";
    this.#http10 = head.http10;
    this.closes = !head.reusable;
  }

  /**
   * Sets the status and headers; they go out with the first write, or the end. Throws TypeError for a
   * header that cannot go on the wire as given (CR or LF would split the head), with nothing changed.
   */
  writeHead(status: number, headers: Record<string, string | number | undefined> = {}): this {
    if (this.headersSent) throw new Error("writeHead after the head was sent");
    let lines = "";
    let sized = false;
    let connectionSet = false;
    let closes = false;
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined) continue;
      const text = typeof value === "number" ? String(value) : value;
      if (!isToken(name) || !isFieldValue(text))
        throw new TypeError(`header ${JSON.stringify(name)} has characters HTTP cannot carry`);
      const lower = name.toLowerCase();
      if (lower === "content-length") sized = true;
      else if (lower === "transfer-encoding") throw new TypeError("the server sets transfer-encoding itself");
      else if (lower === "connection") {
        connectionSet = true;
        closes = /close/i.test(text);
      }
      lines += `${name}: ${text}\r\n`;
    }
    this.#status = status;
    this.#lines = lines;
    this.#sized = sized;
    this.#connectionSet = connectionSet;
    if (closes) this.closes = true;
    return this;
  }

  /** Sends the head now (a stream's first frame may be a while). */
  flushHeaders(): void {
    if (!this.headersSent) this.#send(this.#head(undefined), undefined);
  }

  /** Sends body bytes; false when the socket's buffer is full (the caller may wait for it to drain). */
  write(chunk: string | Uint8Array): boolean {
    if (this.writableFinished) return false;
    const head = this.headersSent ? "" : this.#head(undefined);
    if (this.#bodyless || chunk.length === 0) return head === "" || this.#send(head, undefined);
    if (!this.#chunked) return this.#send(head, chunk);
    const size = `${head}${Buffer.byteLength(chunk).toString(16)}${CRLF}`;
    return this.#send(size, chunk, CRLF);
  }

  /** Sends the last bytes and finishes the answer. */
  end(chunk?: string | Uint8Array): void {
    if (this.writableFinished) return;
    if (!this.headersSent) {
      const body = this.#bodyless ? undefined : chunk;
      this.#send(this.#head(chunk === undefined ? 0 : Buffer.byteLength(chunk)), body);
    } else if (chunk !== undefined && chunk.length > 0) this.write(chunk);
    if (this.#chunked && !this.#bodyless) this.#send(LAST_CHUNK, undefined);
    this.writableFinished = true;
    this.#closed();
    this.#connection.answered(this);
  }

  /** Resolves once the socket has room again after write() said false (or the connection is gone). */
  drained(): Promise<void> {
    return this.#connection.drained();
  }

  /** Drops the connection: the client sees the answer cut off. */
  destroy(): void {
    this.#connection.destroy();
  }

  /** `fn` runs once the answer is finished or its connection is gone (read writableFinished to tell). */
  once(event: "close", fn: () => void): this {
    const before = this.#onClose;
    this.#onClose = before ? () => (before(), fn()) : fn;
    return this;
  }

  /** The server's: the connection is gone. */
  connectionClosed(): void {
    this.#closed();
  }

  #closed(): void {
    const fn = this.#onClose;
    this.#onClose = undefined;
    fn?.();
  }

  #send(text: string, body: string | Uint8Array | undefined, tail?: string): boolean {
    this.headersSent = true;
    return this.#connection.send(text, body, tail);
  }

  /** The head; `length` is the whole body's when end() carries it all. */
  #head(length: number | undefined): string {
    const status = this.#status;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\ndate: ${httpDate()}\r\n${this.#lines}`;
    const empty = status === 204 || status === 304 || (status >= 100 && status < 200);
    if (!this.#sized && !empty) {
      if (length !== undefined) head += `content-length: ${length}\r\n`;
      else if (this.#http10)
        this.closes = true; // the body runs to the close
      else {
        this.#chunked = true;
        head += "transfer-encoding: chunked\r\n";
      }
    }
    if (this.closes) head += this.#connectionSet ? "" : "connection: close\r\n";
    else
      head += `${this.#connectionSet ? "" : "connection: keep-alive\r\n"}${this.#connection.keepAliveLine}`;
    return `${head}\r\n`;
  }
}
