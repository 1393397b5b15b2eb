/**
 * The practical ceiling for bench/gateway: a minimal pass-through proxy with node:http in front and, behind
 * it, undici's request API (a keep-alive pool) or node:http's own client, with no checks, no accounting and
 * no translation. Usage: node bench/gateway/minimal-proxy.ts UPSTREAM_URL [undici|http]
 * Prints {"url": ...} once it listens on 127.0.0.1.
 */
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";

const upstream = new URL((process.argv[2] ?? "").replace(/\/$/, "") || "http://invalid");
const client = process.argv[3] === "http" ? "http" : "undici";
if (!process.argv[2]) {
  process.stderr.write("usage: node bench/gateway/minimal-proxy.ts UPSTREAM_URL [undici|http]\n");
  process.exit(2);
}
const agent = new Agent({ keepAlive: true });
const pool = new Pool(upstream.origin);

function fail(res: ServerResponse, err: Error): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(502, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { message: err.message } }));
}

function viaUndici(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (req.headers.authorization) headers.authorization = req.headers.authorization;
  pool
    .request({ path: req.url ?? "/", method: "POST", headers, body })
    .then((answer) => {
      const type = answer.headers["content-type"];
      res.writeHead(answer.statusCode, {
        "content-type": typeof type === "string" ? type : "application/json",
      });
      answer.body.pipe(res);
    })
    .catch((err: Error) => fail(res, err));
}

function viaHttp(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": body.length,
  };
  if (req.headers.authorization) headers.authorization = req.headers.authorization;
  const out = request(
    { agent, host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, {
        "content-type": answer.headers["content-type"] ?? "application/json",
      });
      answer.pipe(res);
    },
  );
  out.on("error", (err) => fail(res, err));
  out.end(body);
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => (client === "http" ? viaHttp : viaUndici)(req, res, Buffer.concat(chunks)));
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
