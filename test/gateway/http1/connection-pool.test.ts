/**
 * The upstream connection pool against real servers on 127.0.0.1: keep-alive reuse and its limits, TLS with
 * verification, back-pressure, and servers that break HTTP.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import type { HeaderRecord } from "../../../src/gateway/header-record.ts";
import { type Exchange, Http1Pool } from "../../../src/gateway/http1/connection-pool.ts";

interface Answer {
  status: number;
  headers: HeaderRecord;
  body: Buffer;
}

function send(
  pool: Http1Pool,
  body = Buffer.from('{"q":1}'),
  onData?: (exchange: Exchange, chunk: Buffer) => void,
) {
  let exchange: Exchange | undefined;
  const answer = new Promise<Answer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let head: Omit<Answer, "body"> | undefined;
    exchange = pool.request(
      "/v1/chat/completions",
      { "content-type": "application/json", "content-length": String(body.length) },
      body,
      {
        onHead: (status, headers) => (head = { status, headers }),
        onData: (chunk) => {
          chunks.push(Buffer.from(chunk));
          if (exchange) onData?.(exchange, chunk);
        },
        onEnd: () => resolve({ ...(head as Omit<Answer, "body">), body: Buffer.concat(chunks) }),
        onError: reject,
      },
    );
  });
  return { answer, exchange: exchange as unknown as Exchange };
}

async function listen(t: TestContext, server: Server | ReturnType<typeof createTcpServer>) {
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

async function httpUpstream(t: TestContext, handler: RequestListener, keepAliveTimeout = 5000) {
  const server = createServer({ keepAliveTimeout }, handler);
  const up = await listen(t, server);
  const pool = new Http1Pool(`http://127.0.0.1:${up.port}`);
  t.after(() => pool.close());
  return { ...up, pool };
}

/** Answers every request with its own body, once the body is read. */
const echo: RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, { "content-type": "application/json", "x-path": req.url ?? "" });
    res.end(body);
  });
};

test("sequential requests share one connection; concurrent ones open one each, then reuse them", async (t) => {
  const up = await httpUpstream(t, echo);
  for (let i = 0; i < 10; i++) {
    const answer = await send(up.pool, Buffer.from(`{"n":${i}}`)).answer;
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), `{"n":${i}}`);
    assert.equal(answer.headers["x-path"], "/v1/chat/completions");
  }
  assert.equal(up.connections(), 1);
  for (let round = 0; round < 2; round++) {
    const answers = await Promise.all([1, 2, 3, 4].map((n) => send(up.pool, Buffer.from(`${n}`)).answer));
    assert.deepEqual(
      answers.map((answer) => answer.body.toString()),
      ["1", "2", "3", "4"],
    );
  }
  assert.equal(up.connections(), 4, "four at once need four connections, the second round reuses them");
});

test("an idle connection is dropped a second before the server's Keep-Alive timeout would close it", async (t) => {
  const up = await httpUpstream(t, echo, 2000); // node:http sends "Keep-Alive: timeout=2"
  await send(up.pool).answer;
  await send(up.pool).answer;
  assert.equal(up.connections(), 1);
  await new Promise((resolve) => setTimeout(resolve, 1200));
  assert.equal((await send(up.pool).answer).status, 200);
  assert.equal(up.connections(), 2, "the connection idle past timeout − 1 s was not used");
});

test("a connection the server closes while it sits idle is dropped, and the next request opens another", async (t) => {
  // Keep-alive answers with no Keep-Alive hint, and an idle close 100 ms after each answer.
  const server = createTcpServer((socket) => {
    socket.on("data", () => {
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      setTimeout(() => socket.end(), 100);
    });
  });
  const up = await listen(t, server);
  const pool = new Http1Pool(`http://127.0.0.1:${up.port}`);
  t.after(() => pool.close());
  assert.equal((await send(pool).answer).body.toString(), "ok");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await send(pool).answer).body.toString(), "ok", "not sent on the closed connection");
  assert.equal(up.connections(), 2);
});

test("an answer that says Connection: close is the connection's last", async (t) => {
  const up = await httpUpstream(t, (req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { connection: "close", "content-length": "2" });
      res.end("ok");
    });
  });
  for (let i = 0; i < 3; i++) assert.equal((await send(up.pool).answer).body.toString(), "ok");
  assert.equal(up.connections(), 3);
});

test("a server that answers before reading our whole body never gets the next request on that connection", async (t) => {
  const up = await httpUpstream(t, (req, res) => {
    if (req.headers["content-length"] === "2") return echo(req, res);
    res.writeHead(413, { "content-type": "application/json" });
    res.end('{"error":"too large"}'); // without reading the 8 MB body
  });
  const early = await send(up.pool, Buffer.alloc(8 * 1024 * 1024, "a")).answer;
  assert.equal(early.status, 413);
  const next = await send(up.pool, Buffer.from("{}")).answer;
  assert.equal(next.status, 200);
  assert.equal(next.body.toString(), "{}");
  assert.equal(up.connections(), 2);
});

test("a paused answer stops being read, and resumes to the last byte", async (t) => {
  const total = 48 * 1024 * 1024;
  const up = await httpUpstream(t, (req, res) => {
    req.resume();
    res.writeHead(200, { "content-length": String(total) });
    const piece = Buffer.alloc(1024 * 1024, "x");
    let sent = 0;
    const more = () => {
      while (sent < total) {
        sent += piece.length;
        if (!res.write(piece)) return void res.once("drain", more);
      }
      res.end();
    };
    more();
  });
  let received = 0;
  const { answer, exchange } = send(up.pool, undefined, (ex, chunk) => {
    if (received === 0) ex.pause();
    received += chunk.length;
  });
  while (received === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const whilePaused = received;
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(exchange.paused, true);
  assert.equal(received, whilePaused, "nothing more was read while paused");
  assert.ok(received < total / 4, `${received} of ${total} bytes read while paused`);
  exchange.resume();
  assert.equal((await answer).body.length, total);
  assert.equal(exchange.paused, false);
});

test("a header HTTP cannot carry is refused before anything is sent", async (t) => {
  const up = await httpUpstream(t, echo);
  assert.throws(
    () =>
      up.pool.request("/v1/x", { "anthropic-beta": "a\r\nx-injected: 1" }, Buffer.alloc(0), {
        onHead() {},
        onData() {},
        onEnd() {},
        onError() {},
      }),
    /header "anthropic-beta" has characters HTTP cannot carry/,
  );
  assert.equal(up.connections(), 0);
});

/** A TCP server that answers every connection's first bytes with `reply`, then does `after`. */
async function rawUpstream(t: TestContext, reply: string, after: "close" | "stay" = "close") {
  const server = createTcpServer((socket) => {
    socket.once("data", () => {
      socket.write(reply);
      if (after === "close") socket.end();
    });
  });
  const up = await listen(t, server);
  const pool = new Http1Pool(`http://127.0.0.1:${up.port}`);
  t.after(() => pool.close());
  return { ...up, pool };
}

test("garbage, an answer cut short and a silent close each fail the request and say why", async (t) => {
  const garbage = await rawUpstream(t, "SSH-2.0-OpenSSH_9.6\r\n\r\n");
  await assert.rejects(send(garbage.pool).answer, /malformed status line \(not an HTTP\/1.x answer\)/);
  const cut = await rawUpstream(t, 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"partial":');
  await assert.rejects(send(cut.pool).answer, /closed in the middle of the answer/);
  const silent = await rawUpstream(t, "");
  await assert.rejects(send(silent.pool).answer, /closed before an answer/);
  const pipelined = await rawUpstream(
    t,
    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    "stay",
  );
  assert.equal((await send(pipelined.pool).answer).body.toString(), "ok");
  assert.equal((await send(pipelined.pool).answer).body.toString(), "ok");
  assert.equal(pipelined.connections(), 2, "a connection with bytes past the answer is not reused");
});

test("https: the certificate is verified, and a trusted one carries keep-alive requests", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-tls-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1"],
      ...["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
    ],
    { stdio: "ignore" },
  );
  const cert = readFileSync(join(dir, "cert.pem"));
  const server = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert }, echo);
  const up = await listen(t, server);
  const trusted = new Http1Pool(`https://localhost:${up.port}`, { tls: { ca: cert } });
  const untrusted = new Http1Pool(`https://localhost:${up.port}`);
  t.after(() => {
    trusted.close();
    untrusted.close();
  });
  for (let i = 0; i < 3; i++)
    assert.equal((await send(trusted, Buffer.from(`{"tls":${i}}`)).answer).body.toString(), `{"tls":${i}}`);
  assert.equal(up.connections(), 1);
  await assert.rejects(send(untrusted).answer, (err: NodeJS.ErrnoException) => {
    assert.equal(err.code, "DEPTH_ZERO_SELF_SIGNED_CERT");
    return true;
  });
});
