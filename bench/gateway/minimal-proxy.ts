/**
 * The practical ceiling for bench/gateway: a minimal pass-through proxy, node:http in front and Node's
 * bundled undici (fetch) behind, with no checks, no accounting and no translation.
 * Usage: node bench/gateway/minimal-proxy.ts UPSTREAM_URL  (prints {"url": ...} once listening on 127.0.0.1)
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";

const upstream = (process.argv[2] ?? "").replace(/\/$/, "");
if (!upstream) {
  process.stderr.write("usage: node bench/gateway/minimal-proxy.ts UPSTREAM_URL\n");
  process.exit(2);
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    fetch(`${upstream}${req.url ?? "/"}`, { method: req.method, headers, body: Buffer.concat(chunks) })
      .then((response) => {
        res.writeHead(response.status, {
          "content-type": response.headers.get("content-type") ?? "application/json",
        });
        if (!response.body) return void res.end();
        Readable.fromWeb(response.body).pipe(res);
      })
      .catch((err: Error) => {
        res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: err.message } }));
      });
  });
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
