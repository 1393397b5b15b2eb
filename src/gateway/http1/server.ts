/**
 * The gateway's HTTP/1.1 server for agents' calls. node:http's server spends about 50 µs of CPU per request
 * on streams and events around its parser, a quarter of what a whole pass-through costs; this one reads a
 * request with the same strict parser as the upstream client and writes each answer's head and body in one
 * write. Keep-alive, pipelined requests (answered in order), `Expect: 100-continue`, chunked request bodies,
 * chunked or sized answers, HEAD, and idle and slow-request timeouts. Broken HTTP gets a 400 and a close.
 */
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { HeadTooLarge, ProtocolError, type RequestHead } from "./message-heads.ts";
import { RequestParser } from "./message-parser.ts";
import { Http1Request } from "./request.ts";
import { type AnswerConnection, Http1Response } from "./response.ts";

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

/** Reads requests off one socket and answers them in order. */
class Connection implements AnswerConnection {
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
    return this.#hasRoom();
  }

  drained(): Promise<void> {
    const socket = this.socket;
    if (this.#closed || this.#hasRoom()) return Promise.resolve();
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

  #hasRoom(): boolean {
    return this.socket.writableLength < this.socket.writableHighWaterMark;
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
    const every = Math.min(this.#keepAliveMs, this.#receiveTimeoutMs) / 4; // a quarter of the shorter, 10 ms to 1 s
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(Math.max(every, 10), 1000)).unref();
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
