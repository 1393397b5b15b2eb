/** A scripted HTTP receiver on 127.0.0.1 for alert channels and injection: records each request, answers per script. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

/** What the receiver does with request number n (from 0): answer, or hold the socket open and never answer. */
export type Script = (n: number, request: Received) => { status: number; body?: string } | "hang";

export interface Receiver {
  port: number;
  url: string;
  received: Received[];
  /** Replaces the script. */
  script(next: Script): void;
  close(): Promise<void>;
}

const ok: Script = () => ({ status: 200, body: "ok" });

/** Listens on port (0 picks one); closed in t.after. */
export async function startReceiver(t: TestContext, script: Script = ok, port = 0): Promise<Receiver> {
  let current = script;
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const request = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        text,
        json,
      };
      const answer = current(received.length, request);
      received.push(request);
      if (answer === "hang") return;
      res.writeHead(answer.status, { "content-type": "text/plain" });
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const bound = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  t.after(close);
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    received,
    script: (next) => {
      current = next;
    },
    close,
  };
}
