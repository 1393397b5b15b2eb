/** The upstream client: keep-alive connections per provider, compressed answers, and a timeout that covers the body. */
import assert from "node:assert/strict";
import { createServer, type RequestListener } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { type TestContext, test } from "node:test";
import { gzipSync } from "node:zlib";
import { type Attempt, type Provider, sendAttempt } from "../../src/gateway/upstream.ts";
import { createUpstreamDispatcher } from "../../src/gateway/upstream-dispatcher.ts";

const dispatcher = createUpstreamDispatcher({ http2: false });
test.after(() => dispatcher.close());

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
    http2: false,
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

const attempt = (provider: Provider, signal = new AbortController().signal, more: Partial<Attempt> = {}) =>
  sendAttempt({
    provider,
    dispatcher,
    apiKey: "sk-test",
    payload: Buffer.from('{"model":"m"}'),
    passHeaders: {},
    maxResponseSize: 1024 * 1024,
    signal,
    ...more,
  });

test("sequential attempts to one provider reuse keep-alive connections and send the key and body", async (t) => {
  const seen: string[] = [];
  const up = await upstream(t, (req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      seen.push(
        `${req.method} ${req.url} ${req.headers.authorization} ${req.headers["accept-encoding"]} ${body}`,
      );
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
  // undici may open a second connection while the first is still being released, then reuses both.
  assert.ok(
    up.connections() <= 2,
    `ten attempts one after another share their connections (${up.connections()})`,
  );
  assert.deepEqual(seen[0], 'POST /v1/chat/completions Bearer sk-test identity {"model":"m"}');
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
  const result = await attempt(provider, undefined, {
    apiKey: "sk-ant-test",
    passHeaders: { "anthropic-beta": "tools-2024\r\nx-api-key: stolen" },
  });
  assert.deepEqual(result, {
    ok: false,
    kind: "network",
    message: "UND_ERR_INVALID_ARG: invalid anthropic-beta header",
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
    message: "broken HTTP: Response does not match the HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)",
  });
});
