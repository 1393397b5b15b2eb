/**
 * The gateway's HTTP/1.1 server for agents' calls. node:http's server spends about 50 µs of CPU per request
 * on streams and events around its parser, a quarter of what a whole pass-through costs; this one reads a
 * request with the same strict parser as the upstream client and writes each answer's head and body in one
 * write. Keep-alive, pipelined requests (answered in order), `Expect: 100-continue`, chunked request bodies,
 * chunked or sized answers, HEAD, and idle and slow-request timeouts. Broken HTTP gets a 400 and a close.
 */
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import {
  HeadTooLarge,
  isFieldValue,
  isToken,
  ProtocolError,
  type RequestHead,
  RequestParser,
} from "./message-parser.ts";

const { STATUS_CODES } = process.getBuiltinModule("node:http");

export interface Http1ServerOptions {
  /** Request bodies over this many bytes are not kept: `body()` gives undefined, the rest is drained. */
  maxBodySize: number;
  /** An idle keep-alive connection is closed after this long; clients are told it (default 65 s). */
  keepAliveMs?: number;
  /** A request whose head or body stalls this long is cut off (default 60 s). */
  receiveTimeoutMs?: number;
}

export type Http1Handler = (req: Http1Request, res: Http1Response) => void;

/** One request: its head at once, its body read whole with body(). */
export class Http1Request {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The connection (one object per connection, for per-connection caches). */
  readonly socket: Socket;
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #result: Promise<Buffer | undefined> | undefined;
  #settle: ((body: Buffer | undefined) => void) | undefined;
  #fail: ((err: Error) => void) | undefined;
  #outcome: { body: Buffer | undefined } | { error: Error } | undefined;

  constructor(head: RequestHead, socket: Socket, limit: number) {
    this.method = head.method;
    this.url = head.url;
    this.headers = head.headers;
    this.socket = socket;
    this.#limit = limit;
  }

  /** The whole body; undefined once it passes the server's maxBodySize (sooner than its end). */
  body(): Promise<Buffer | undefined> {
    this.#result ??= new Promise((resolve, reject) => {
      const outcome = this.#outcome;
      if (outcome === undefined) {
        this.#settle = resolve;
        this.#fail = reject;
      } else if ("error" in outcome) reject(outcome.error);
      else resolve(outcome.body);
    });
    return this.#result;
  }

  /** The server's: the next bytes of the body. */
  receive(chunk: Buffer): void {
    if (this.#outcome !== undefined) return; // over the limit: drained, not kept
    this.#size += chunk.length;
    if (this.#size <= this.#limit) return void this.#chunks.push(chunk);
    this.#chunks = [];
    this.#done({ body: undefined });
  }

  /** The server's: the body is complete, or broke (`err`). */
  complete(err?: Error): void {
    if (this.#outcome !== undefined) return;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#done(
      err ? { error: err } : { body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.#size) },
    );
  }

  #done(outcome: { body: Buffer | undefined } | { error: Error }): void {
    this.#outcome = outcome;
    if ("error" in outcome) this.#fail?.(outcome.error);
    else this.#settle?.(outcome.body);
  }
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

/** One answer, written the way node:http's ServerResponse is driven: writeHead, then write and end. */
export class Http1Response {
  readonly #connection: Connection;
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

  constructor(connection: Connection, head: RequestHead) {
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

/** Reads requests off one socket and answers them in order. */
class Connection {
  readonly socket: Socket;
  readonly #server: Http1Server;
  #parser: RequestParser;
  #request: Http1Request | undefined;
  #response: Http1Response | undefined;
  #held: Buffer | undefined; // a pipelined next request, kept until this one is answered
  #pushing = false;
  #closed = false;
  /** When the connection last received bytes or finished an answer (for the timeouts). */
  lastActive = Date.now();

  constructor(server: Http1Server, socket: Socket) {
    this.#server = server;
    this.socket = socket;
    this.#parser = new RequestParser(this);
    socket.setNoDelay(true);
    socket.on("data", (data: Buffer) => this.#feed(data));
    socket.on("end", () => this.#end());
    socket.on("error", () => this.destroy());
    socket.on("close", () => this.#gone());
  }

  get keepAliveLine(): string {
    return this.#server.keepAliveLine;
  }

  /** Waiting for a request with none begun, or closing (waiting for the client to close its side). */
  get idle(): boolean {
    return this.#closed || (this.#response === undefined && this.#parser.idle);
  }

  /** A request is arriving (its head or body not yet whole), so the receive timeout applies. */
  get receiving(): boolean {
    return !this.#parser.idle && !this.#parser.done;
  }

  onHead(head: RequestHead): void {
    const request = new Http1Request(head, this.socket, this.#server.maxBodySize);
    const response = new Http1Response(this, head);
    this.#request = request;
    this.#response = response;
    if (head.expectsContinue && !this.#parser.done) this.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
    this.#server.handler(request, response);
  }

  onData(chunk: Buffer): void {
    this.#request?.receive(chunk);
  }

  onEnd(): void {
    this.#request?.complete();
  }

  send(text: string, body: string | Uint8Array | undefined, tail: string | undefined): boolean {
    if (this.#closed) return false;
    if (body === undefined) return this.socket.write(text, "latin1");
    this.socket.cork();
    this.socket.write(text, "latin1");
    this.socket.write(body);
    if (tail !== undefined) this.socket.write(tail, "latin1");
    this.socket.uncork();
    return this.socket.writableLength < this.socket.writableHighWaterMark;
  }

  drained(): Promise<void> {
    const socket = this.socket;
    if (this.#closed || socket.writableLength < socket.writableHighWaterMark) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        socket.off("drain", done);
        socket.off("close", done);
        resolve();
      };
      socket.on("drain", done);
      socket.on("close", done);
    });
  }

  /** The current answer is finished: once its request is whole too, go on to the next one. */
  answered(response: Http1Response): void {
    this.lastActive = Date.now();
    if (this.#closed || response !== this.#response || this.#pushing || !this.#parser.done) return;
    const held = this.#held;
    this.#held = undefined;
    if (!this.#next()) return;
    if (this.socket.isPaused()) this.socket.resume();
    if (held) this.#feed(held);
  }

  /** Drops the connection now, even one already closing. */
  destroy(): void {
    this.#closed = true;
    this.socket.destroy();
  }

  #feed(data: Buffer | undefined): void {
    this.lastActive = Date.now();
    while (data !== undefined && !this.#closed) {
      let rest: number;
      this.#pushing = true;
      try {
        rest = this.#parser.push(data);
      } catch (err) {
        return this.#broken(err as Error);
      } finally {
        this.#pushing = false;
      }
      const more = rest > 0 ? data.subarray(data.length - rest) : undefined;
      if (!this.#parser.done) return;
      if (!this.#response?.writableFinished) {
        if (more) {
          this.#held = more;
          this.socket.pause();
        }
        return;
      }
      if (!this.#next()) return;
      data = more;
    }
  }

  /** Ready for the next request; false when this connection closes instead. */
  #next(): boolean {
    if (this.#response?.closes) {
      this.#closed = true;
      this.socket.end();
      return false;
    }
    this.#request = undefined;
    this.#response = undefined;
    this.#parser = new RequestParser(this);
    return true;
  }

  /** The client broke HTTP: a request being read fails; a 400 (431 for a huge head) if nothing was sent. */
  #broken(err: Error): void {
    this.#request?.complete(err);
    if (this.#response?.headersSent || !(err instanceof ProtocolError)) return this.destroy();
    const status = err instanceof HeadTooLarge ? 431 : 400;
    const body = JSON.stringify({
      error: { message: `bad request: ${err.message}`, type: "invalid_request" },
    });
    this.socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
        `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    );
    this.#closed = true;
  }

  /**
   * The client sent its FIN. As with node:http, that is the client leaving: a request being read is broken,
   * an answer in progress is dropped (its close listeners run, so the upstream call is aborted).
   */
  #end(): void {
    if (this.#closed) return;
    if (this.receiving)
      return this.#broken(new ProtocolError("the connection closed in the middle of the request"));
    if (this.#response && !this.#response.writableFinished) return this.destroy();
    this.#closed = true;
    this.socket.end();
  }

  #gone(): void {
    this.#closed = true;
    this.#server.forget(this);
    this.#request?.complete(new ProtocolError("the connection closed in the middle of the request"));
    if (this.#response && !this.#response.writableFinished) this.#response.connectionClosed();
  }
}

/** A listening HTTP/1.1 server; `net` is the TCP server (listen, address, close, 'error'). */
export class Http1Server {
  readonly net: Server;
  readonly handler: Http1Handler;
  readonly maxBodySize: number;
  readonly keepAliveLine: string;
  readonly #keepAliveMs: number;
  readonly #receiveTimeoutMs: number;
  readonly #connections = new Set<Connection>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(handler: Http1Handler, options: Http1ServerOptions) {
    this.handler = handler;
    this.maxBodySize = options.maxBodySize;
    this.#keepAliveMs = options.keepAliveMs ?? 65_000;
    this.#receiveTimeoutMs = options.receiveTimeoutMs ?? 60_000;
    this.keepAliveLine = `keep-alive: timeout=${Math.floor(this.#keepAliveMs / 1000)}\r\n`;
    this.net = createTcpServer({ allowHalfOpen: true }, (socket) => {
      this.#connections.add(new Connection(this, socket));
    });
    // One timer for every connection's timeouts, rather than one per socket re-armed on every request.
    const every = Math.max(Math.min(this.#keepAliveMs, this.#receiveTimeoutMs) / 4, 10);
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(every, 1000)).unref();
    this.net.on("close", () => clearInterval(this.#sweeper));
  }

  forget(connection: Connection): void {
    this.#connections.delete(connection);
  }

  /** Closes the connections waiting for a request; requests in flight finish. */
  closeIdleConnections(): void {
    for (const connection of this.#connections) if (connection.idle) connection.destroy();
  }

  closeAllConnections(): void {
    for (const connection of this.#connections) connection.destroy();
  }

  #sweep(): void {
    const now = Date.now();
    for (const connection of this.#connections) {
      const quiet = now - connection.lastActive;
      if (
        connection.idle ? quiet >= this.#keepAliveMs : connection.receiving && quiet >= this.#receiveTimeoutMs
      )
        connection.destroy();
    }
  }
}

export function createHttp1Server(handler: Http1Handler, options: Http1ServerOptions): Http1Server {
  return new Http1Server(handler, options);
}
