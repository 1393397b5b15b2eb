/** The upstream client: keep-alive connections per provider, compressed answers, and a timeout that covers the body. */
import assert from "node:assert/strict";
import { createServer, type RequestListener } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { type TestContext, test } from "node:test";
import { gzipSync } from "node:zlib";
import { type Provider, sendAttempt } from "../../src/gateway/upstream.ts";

/** An OpenAI-kind provider at the server's port, with no keys or limits (the attempt brings the key). */
function providerAt(server: { address(): unknown }, timeout: number): Provider {
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  return {
    id: "up",
    kind: "openai",
    baseUrl,
    keys: [],
    limits: {},
    prices: {},
    timeout,
  } as unknown as Provider;
}

async function upstream(t: TestContext, handler: RequestListener) {
  let connections = 0;
  const server = createServer(handler).on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { provider: providerAt(server, 300), connections: () => connections };
}

const attempt = (provider: Provider, signal = new AbortController().signal) =>
  sendAttempt({
    provider,
    apiKey: "sk-test",
    payload: Buffer.from('{"model":"m"}'),
    passHeaders: {},
    signal,
  });

test("sequential attempts to one provider reuse keep-alive connections and send the key and body", async (t) => {
  const seen: string[] = [];
  const up = await upstream(t, (req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization} ${body}`);
      res.writeHead(200, { "content-type": "application/json", "x-ratelimit-limit-requests": "60" });
      res.end('{"ok":true}');
    });
  });
  for (let i = 0; i < 10; i++) {
    const result = await attempt(up.provider);
    assert.ok(result.ok);
    assert.equal(result.response.status, 200);
    assert.equal(result.response.headers["x-ratelimit-limit-requests"], "60");
    assert.equal(await result.response.body.text(), '{"ok":true}');
  }
  assert.equal(up.connections(), 1, "ten attempts one after another share one connection");
  assert.deepEqual(seen[0], 'POST /v1/chat/completions Bearer sk-test {"model":"m"}');
});

test("a gzip-encoded answer is decoded, whether read whole or as a stream", async (t) => {
  const up = await upstream(t, (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
    res.end(gzipSync('{"answer":"unzipped"}'));
  });
  const whole = await attempt(up.provider);
  assert.ok(whole.ok);
  assert.equal(await whole.response.body.text(), '{"answer":"unzipped"}');
  const streamed = await attempt(up.provider);
  assert.ok(streamed.ok);
  let text = "";
  for await (const chunk of streamed.response.body) text += Buffer.from(chunk).toString();
  assert.equal(text, '{"answer":"unzipped"}');
});

test("the provider's timeout covers the body: headers and then silence end the read with an error", async (t) => {
  const up = await upstream(t, (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("data: {}\n\n"); // and never another byte
  });
  const result = await attempt(up.provider);
  assert.ok(result.ok);
  await assert.rejects(async () => {
    for await (const chunk of result.response.body) void chunk;
  });
});

test("no headers within the timeout is a timeout; a closed port is refused; a caller's abort ends the attempt", async (t) => {
  let arrived: () => void = () => undefined;
  const requested = new Promise<void>((resolve) => (arrived = resolve));
  const silent = await upstream(t, () => arrived());
  const timedOut = await attempt(silent.provider);
  assert.deepEqual(timedOut.ok ? "ok" : timedOut.kind, "timeout");
  const closed = { ...silent.provider, baseUrl: "http://127.0.0.1:1/v1" } as Provider;
  const refused = await attempt(closed);
  assert.deepEqual(refused.ok ? "ok" : refused.kind, "refused");
  const controller = new AbortController();
  const pending = attempt({ ...silent.provider, timeout: 60_000 } as Provider, controller.signal);
  await requested; // the request is at the upstream, waiting for an answer that never comes
  controller.abort();
  const aborted = await pending;
  assert.deepEqual(aborted.ok ? "ok" : aborted.kind, "network");
});

test("a client's anthropic-beta that would split the request head fails the attempt before it is sent", async (t) => {
  let requests = 0;
  const up = await upstream(t, (_req, res) => {
    requests++;
    res.end("{}");
  });
  const provider = { ...up.provider, kind: "anthropic" } as Provider;
  const result = await sendAttempt({
    provider,
    apiKey: "sk-ant-test",
    payload: Buffer.from("{}"),
    passHeaders: { "anthropic-beta": "tools-2024\r\nx-api-key: stolen" },
    signal: new AbortController().signal,
  });
  assert.deepEqual(result, {
    ok: false,
    kind: "network",
    message: 'header "anthropic-beta" has characters HTTP cannot carry',
  });
  assert.equal(requests, 0);
  assert.equal(up.connections(), 0);
});

test("an upstream that breaks HTTP fails the attempt as a network failure, without quoting what it sent", async (t) => {
  // It answers with the request's own Authorization line as its status line.
  const server = createTcpServer((socket) =>
    socket.once("data", (data: Buffer) => {
      const line = data
        .toString("latin1")
        .split("\r\n")
        .find((l) => l.startsWith("authorization"));
      socket.end(`${line}\r\n\r\n`);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const result = await attempt(providerAt(server, 1000));
  assert.deepEqual(result, {
    ok: false,
    kind: "network",
    message: "broken HTTP: malformed status line (not an HTTP/1.x answer)",
  });
});
