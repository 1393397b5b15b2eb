/** One request to the gateway's HTTP/1.1 server: its head at once, its body read whole with body(). */
import type { Socket } from "node:net";
import type { RequestHead } from "./message-heads.ts";

export class Http1Request {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The connection (one object per connection, for per-connection caches). */
  readonly socket: Socket;
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #outcome: { body: Buffer | undefined } | { error: Error } | undefined;
  #reader: PromiseWithResolvers<Buffer | undefined> | undefined; // a body() call waiting for the outcome

  constructor(head: RequestHead, socket: Socket, limit: number) {
    this.method = head.method;
    this.url = head.url;
    this.headers = head.headers;
    this.socket = socket;
    this.#limit = limit;
  }

  /** The whole body; undefined once it passes the server's maxBodySize (sooner than its end). */
  body(): Promise<Buffer | undefined> {
    const outcome = this.#outcome;
    if (outcome) return "error" in outcome ? Promise.reject(outcome.error) : Promise.resolve(outcome.body);
    this.#reader ??= Promise.withResolvers();
    return this.#reader.promise;
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
    if ("error" in outcome) this.#reader?.reject(outcome.error);
    else this.#reader?.resolve(outcome.body);
  }
}
