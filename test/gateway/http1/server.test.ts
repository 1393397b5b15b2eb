/**
 * The gateway's HTTP/1.1 server on 127.0.0.1, driven by real clients (fetch, node:http) and by raw sockets
 * for the exact bytes: keep-alive, pipelining, 100-continue, chunked bodies, the body cap, HEAD, HTTP/1.0,
 * clients that leave, timeouts, and broken requests.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { Agent, request } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { type TestContext, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Http1Handler,
  Http1Server,
  type Http1ServerOptions,
} from "../../../src/gateway/http1/server.ts";

/** Answers every request with its method, url, one header and the body it read, as JSON. */
const echo: Http1Handler = (req, res) => {
  req.body().then(
    (body) => {
      const text = JSON.stringify({
        method: req.method,
        url: req.url,
        test: req.headers["x-test"],
        body: body === undefined ? null : body.toString(),
      });
      res.writeHead(body === undefined ? 413 : 200, { "content-type": "application/json" });
      res.end(text);
    },
    () => {},
  ); // a broken body: the server has answered 400
};

async function serve(t: TestContext, handler: Http1Handler, options: Partial<Http1ServerOptions> = {}) {
  const server = new Http1Server(handler, { maxBodySize: 1024, ...options });
  let connections = 0;
  server.net.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.net.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.net.close(resolve));
  });
  const { port } = server.net.address() as AddressInfo;
  return { server, port, url: `http://127.0.0.1:${port}`, connections: () => connections };
}

/** A raw client: write bytes, read what comes back until the server closes (or `ms` passes). */
async function raw(port: number, chunks: Array<string | Buffer>, gapMs = 0, ms = 3000) {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  let text = "";
  socket.on("data", (data: Buffer) => (text += data.toString("latin1")));
  const closed = once(socket, "close");
  for (const chunk of chunks) {
    socket.write(chunk);
    if (gapMs) await sleep(gapMs);
  }
  await Promise.race([closed, sleep(ms)]);
  socket.destroy();
  return text;
}

const post = (path: string, body: string, extra = "") =>
  `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

test("fetch and node:http keep their connections for many requests; answers carry date and keep-alive", async (t) => {
  const { url, connections } = await serve(t, echo, { keepAliveMs: 30_000 });
  for (let i = 0; i < 10; i++) {
    const answer = await fetch(`${url}/v1/x?i=${i}`, {
      method: "POST",
      headers: { "x-test": `n${i}` },
      body: JSON.stringify({ i }),
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("keep-alive"), "timeout=30");
    assert.ok(answer.headers.get("date"));
    assert.deepEqual(await answer.json(), {
      method: "POST",
      url: `/v1/x?i=${i}`,
      test: `n${i}`,
      body: `{"i":${i}}`,
    });
  }
  // undici opens a second connection for its second request (it does so against node:http too), then reuses.
  const byFetch = connections();
  assert.ok(byFetch <= 2, `fetch used ${byFetch} connections for 10 requests`);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  for (let i = 0; i < 5; i++) {
    const status = await new Promise<number>((resolve, reject) =>
      request(`${url}/y`, { agent, method: "POST" }, (res) =>
        res.resume().on("end", () => resolve(res.statusCode ?? 0)),
      )
        .on("error", reject)
        .end("{}"),
    );
    assert.equal(status, 200);
  }
  assert.equal(connections(), byFetch + 1, "node:http sent its five requests on one connection");
});

test("pipelined requests are answered in order, even when the first answer is the slowest", async (t) => {
  let calls = 0;
  const { port } = await serve(t, (req, res) => {
    const n = ++calls;
    void req.body().then(async (body) => {
      if (n === 1) await sleep(100);
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`answer ${n}: ${body?.toString()}`);
    });
  });
  const text = await raw(port, [
    post("/a", "one") + post("/b", "two") + post("/c", "three", "connection: close\r\n"),
  ]);
  const bodies = [...text.matchAll(/answer \d: [a-z]+/g)].map((m) => m[0]);
  assert.deepEqual(bodies, ["answer 1: one", "answer 2: two", "answer 3: three"]);
  assert.match(text, /connection: close\r\n/);
});

test("Expect: 100-continue gets a 100 before the body; a chunked body arrives whole", async (t) => {
  const { port } = await serve(t, echo);
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.write("POST /e HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n");
  const [first] = (await once(socket, "data")) as [Buffer];
  assert.equal(first.toString(), "HTTP/1.1 100 Continue\r\n\r\n");
  let text = "";
  socket.on("data", (data: Buffer) => (text += data.toString()));
  socket.write("hello");
  const chunked = "POST /c HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
  socket.write(`${chunked}3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nx-trailer: 1\r\n\r\n`);
  await once(socket, "close");
  assert.match(text, /"url":"\/e".*"body":"hello"/);
  assert.match(text, /"url":"\/c".*"body":"abcdefg"/);
});

test("a body over the cap is answered before it ends, drained, and the connection goes on", async (t) => {
  let bodies = 0;
  const { port } = await serve(t, (req, res) => {
    bodies++;
    echo(req, res);
  });
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  let text = "";
  socket.on("data", (data: Buffer) => (text += data.toString()));
  const big = 64 * 1024;
  socket.write(`POST /big HTTP/1.1\r\nhost: x\r\ncontent-length: ${big}\r\n\r\n${"a".repeat(2048)}`);
  while (!text.includes("\r\n\r\n")) await once(socket, "data");
  assert.match(text, /^HTTP\/1\.1 413 /, "answered while most of the body is still to come");
  socket.write("a".repeat(big - 2048));
  socket.write(post("/next", "small", "connection: close\r\n"));
  await once(socket, "close");
  assert.match(text, /"url":"\/next".*"body":"small"/);
  assert.equal(bodies, 2, "the drained bytes were not taken for a request");
});

test("streamed answers are chunked; HEAD gets the head only; HTTP/1.0 gets the body up to the close", async (t) => {
  const { port } = await serve(t, (req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.flushHeaders();
    res.write("data: 1\n\n");
    res.write(Buffer.from("data: 2\n\n"));
    res.end();
  });
  const streamed = await raw(port, ["GET /s HTTP/1.1\r\nhost: x\r\n\r\n"], 0, 300);
  assert.match(streamed, /transfer-encoding: chunked\r\n/);
  assert.ok(streamed.endsWith("\r\n\r\n9\r\ndata: 1\n\n\r\n9\r\ndata: 2\n\n\r\n0\r\n\r\n"), streamed);
  const head = await raw(port, ["HEAD /s HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"]);
  assert.ok(head.endsWith("\r\n\r\n"), "no body after the head");
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  const old = await raw(port, ["GET /s HTTP/1.0\r\n\r\n"]);
  assert.doesNotMatch(old, /transfer-encoding/);
  assert.match(old, /connection: close\r\n/);
  assert.ok(old.endsWith("\r\n\r\ndata: 1\n\ndata: 2\n\n"), old);
});

test("a client that leaves mid-answer, or half-closes, leaves the answer unfinished and its listeners told", async (t) => {
  const closed: Record<string, boolean> = {};
  const { port } = await serve(t, (req, res) => {
    res.once("close", () => (closed[req.url] = res.writableFinished));
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("data: first\n\n");
    if (req.url !== "/slow") void sleep(50).then(() => res.end("data: last\n\n"));
  });
  const socket = connect(port, "127.0.0.1");
  socket.write("GET /slow HTTP/1.1\r\nhost: x\r\n\r\n");
  await once(socket, "data");
  socket.destroy();
  const half = connect(port, "127.0.0.1");
  half.end("GET /half HTTP/1.1\r\nhost: x\r\n\r\n"); // FIN right after the request, as node:http takes it
  half.resume();
  await once(half, "close");
  const whole = await raw(port, ["GET /whole HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"]);
  assert.match(whole, /data: first\n\n.*data: last\n\n\r\n0\r\n\r\n$/s);
  for (let i = 0; i < 50 && Object.keys(closed).length < 3; i++) await sleep(10);
  assert.deepEqual(closed, { "/slow": false, "/half": false, "/whole": true });
});

test("idle and stalled connections are closed; closeIdleConnections spares a request in flight", async (t) => {
  const { port, server } = await serve(t, (req, res) => void sleep(150).then(() => res.end("ok")), {
    keepAliveMs: 100,
    receiveTimeoutMs: 100,
  });
  const started = Date.now();
  assert.equal(await raw(port, [], 0, 2000), "", "an idle connection is closed");
  assert.ok(Date.now() - started < 1000);
  const stalled = await raw(port, ["POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nabc"], 0, 2000);
  assert.equal(stalled, "", "a body that stops coming is cut off");
  const inFlight = raw(port, ["GET /x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"]);
  await sleep(30);
  server.closeIdleConnections();
  assert.match(await inFlight, /\r\n\r\nok$/);
});

test("broken requests get a 400 (431 for a huge head) that says what broke, and a close", async (t) => {
  let handled = 0;
  const { port } = await serve(t, (req, res) => {
    handled++;
    echo(req, res);
  });
  const cases: Array<[string, RegExp]> = [
    ["NOT HTTP AT ALL\r\n\r\n", /^HTTP\/1\.1 400 .*malformed request line/s],
    ["POST /x HTTP/1.1\r\nbad header\r\n\r\n", /^HTTP\/1\.1 400 .*malformed header line 1/s],
    ["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /^HTTP\/1\.1 400 .*malformed request line/s], // https on http
    [
      "POST /x HTTP/1.1\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
      /^HTTP\/1\.1 400 .*both content-length and transfer-encoding/s,
    ],
    ["POST /x HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n", /^HTTP\/1\.1 400 .*other than chunked/s],
    [
      "POST /x HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nab",
      /400 .*conflicting content-length/s,
    ],
    [`GET /x HTTP/1.1\r\nx-big: ${"a".repeat(70_000)}\r\n\r\n`, /^HTTP\/1\.1 431 .*headers exceed/s],
  ];
  for (const [bytes, expected] of cases) {
    const text = await raw(port, [bytes]);
    assert.match(text, expected);
    assert.match(text, /connection: close\r\n/);
  }
  assert.equal(handled, 0);
  const midBody = await raw(port, ["POST /x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcX\r\n"]);
  assert.match(midBody, /^HTTP\/1\.1 400 .*chunk is longer than its size/s);
});

test("writeHead refuses a header that would split the head, before anything is sent", async (t) => {
  let refused: Error | undefined;
  const { url } = await serve(t, (_req, res) => {
    try {
      res.writeHead(200, { "x-bad": "a\r\nset-cookie: stolen" });
    } catch (err) {
      refused = err as Error; // thrown by writeHead itself, not later by end()
    }
    res.writeHead(refused ? 500 : 200, { "content-type": "text/plain" });
    res.end(refused ? "refused" : "sent");
  });
  const answer = await fetch(url);
  assert.equal(answer.status, 500);
  assert.equal(answer.headers.get("set-cookie"), null);
  assert.equal(await answer.text(), "refused");
  assert.match(String(refused), /TypeError: header "x-bad" has characters HTTP cannot carry/);
});

test("an end() with the whole body gets a content-length; a head is sent once and never twice", async (t) => {
  const { port } = await serve(t, (_req, res) => {
    res.end("héllo");
    res.end("again");
    res.write("more");
  });
  const text = await raw(port, ["GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"]);
  assert.match(text, /content-length: 6\r\n/);
  assert.equal(text.match(/HTTP\/1\.1/g)?.length, 1);
  assert.ok(Buffer.from(text, "latin1").toString().endsWith("\r\n\r\nhéllo"));
});

test("a request cut off mid-body fails its body() read and is not answered", async (t) => {
  let failure: unknown;
  const { port } = await serve(t, (req) => {
    req.body().catch((err: unknown) => (failure = err));
  });
  const socket: Socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.write("POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nabc");
  await sleep(30);
  socket.destroy();
  for (let i = 0; i < 50 && failure === undefined; i++) await sleep(10);
  assert.match(String(failure), /closed in the middle of the request/);
});

test("a writer that waits for drained() is held back by a client that does not read", async (t) => {
  const total = 48 * 1024 * 1024;
  const piece = Buffer.alloc(64 * 1024, 97);
  let written = 0;
  const { port } = await serve(t, (_req, res) => {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    void (async () => {
      while (written < total) {
        written += piece.length;
        if (!res.write(piece)) await res.drained();
      }
      res.end();
    })();
  });
  const socket = connect(port, "127.0.0.1");
  socket.pause();
  socket.write("GET /big HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
  await sleep(300);
  const held = written;
  assert.ok(held < total / 2, `the writer went on to ${held} of ${total} bytes while nobody read`);
  let received = 0;
  socket.on("data", (data: Buffer) => (received += data.length));
  socket.resume();
  await once(socket, "close");
  assert.equal(written, total);
  assert.ok(received > total, "every byte arrived (with the head and chunk lines)");
});
