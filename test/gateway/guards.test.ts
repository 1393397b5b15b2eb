/** Budgets, every context-guard strategy, bad input in the caller's format, and no real key anywhere it should not be. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { once } from "node:events";
import { createServer, request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { createSimulator } from "../../src/sim/simulator.ts";
import { waitFor } from "../support/fleet.ts";
import { startGateway } from "../support/gateway.ts";

const REAL_KEY = "sk-real-provider-secret-9f8e7d6c";

async function setup(t: TestContext, extra = "", models = "main: [{ provider: p, model: sim-large }]") {
  const sim = createSimulator({ keys: { [REAL_KEY]: {} }, latency: { firstTokenMs: 0, jitterMs: 0 } });
  const url = await sim.start();
  t.after(() => sim.close());
  process.env.GUARD_KEY = REAL_KEY;
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - { id: p, kind: openai, baseUrl: ${url}/v1, keys: [{ env: GUARD_KEY }], prices: { sim-large: { input: 1000000, output: 1000000 }, sim-small: { input: 1, output: 1 } } }
models:
  ${models}
agents:
  - { name: coder, command: x, workspace: /tmp, model: main, budget: { daily: 30 } }
${extra}`,
  );
  return { sim, gw };
}

function post(url: string, path: string, key: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const hello = { model: "main", messages: [{ role: "user", content: "hello" }] };

test("a daily budget is a hard stop with a clear error and an event", async (t) => {
  const { gw } = await setup(t);
  let status = 200;
  let body = "";
  for (let i = 0; i < 10 && status === 200; i++) {
    const res = await post(gw.url, "/v1/chat/completions", gw.key("coder"), hello);
    status = res.status;
    body = await res.text();
  }
  assert.equal(status, 429);
  assert.match(body, /daily budget of \$30 reached/);
  assert.match(body, /"code":"insufficient_quota"/);
  assert.equal(gw.store.query({ kind: "gateway.budget_exceeded" }).length, 1);
  const spent = gw.store
    .query({ kind: "gateway.request" })
    .reduce((sum, e) => sum + Number(e.data.costUsd), 0);
  assert.ok(spent >= 30, `spent ${spent}`);
});

const longChat = () => {
  const filler = "lorem ipsum ".repeat(400);
  return [
    { role: "system", content: "be brief" },
    { role: "user", content: `first ${filler}` },
    { role: "assistant", content: filler },
    { role: "user", content: `second ${filler}` },
    { role: "assistant", content: filler },
    { role: "user", content: "the latest question" },
  ];
};

test("context guard: reject answers context_length_exceeded in the caller's format", async (t) => {
  const { gw } = await setup(t, "", "main: [{ provider: p, model: sim-large, contextWindow: 2000 }]");
  const res = await post(gw.url, "/v1/chat/completions", gw.key("coder"), {
    model: "main",
    messages: longChat(),
  });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /context_length_exceeded/);
  const anthropic = await post(
    gw.url,
    "/v1/messages",
    gw.key("coder"),
    { model: "main", max_tokens: 10, messages: longChat().slice(1) },
    { "anthropic-version": "2023-06-01" },
  );
  assert.equal(anthropic.status, 400);
  assert.equal(((await anthropic.json()) as { type: string }).type, "error");
});

test("context guard: middle-out drops middle turns and keeps the latest question", async (t) => {
  const { gw } = await setup(
    t,
    "gateway: { contextStrategy: middle-out }",
    "main: [{ provider: p, model: sim-large, contextWindow: 2800 }]",
  );
  const res = await post(gw.url, "/v1/chat/completions", gw.key("coder"), {
    model: "main",
    messages: longChat(),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const trimmed = gw.store.query({ kind: "gateway.context_trimmed" });
  assert.equal(trimmed.length, 1);
  assert.equal(trimmed[0]?.data.dropped, 3);
  const pressure = Number(gw.store.query({ kind: "gateway.request" })[0]?.data.contextPressure);
  assert.ok(pressure > 0 && pressure <= 1, `pressure ${pressure}`);
});

test("context guard: upgrade moves to the next chain entry with a larger window", async (t) => {
  const { gw } = await setup(
    t,
    "gateway: { contextStrategy: upgrade }",
    "main: [{ provider: p, model: sim-small, contextWindow: 2000 }, { provider: p, model: sim-large, contextWindow: 100000 }]",
  );
  const res = await post(gw.url, "/v1/chat/completions", gw.key("coder"), {
    model: "main",
    messages: longChat(),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-flotilla-model"), "sim-large");
  assert.equal(res.headers.get("x-flotilla-tier"), "secondary");
});

test("bad input gets a clear error in the caller's format and the gateway keeps serving", async (t) => {
  const { gw } = await setup(t, "gateway: { maxBodySize: 2K }");
  const key = gw.key("coder");
  const cases: Array<[string, unknown, number, RegExp]> = [
    ["/v1/chat/completions", "{not json", 400, /not valid JSON/],
    ["/v1/chat/completions", { model: "main" }, 400, /messages/],
    [
      "/v1/chat/completions",
      { model: "main", messages: [{ role: "user", content: "x".repeat(5000) }] },
      413,
      /maxBodySize/,
    ],
    ["/v1/messages", { model: "main", messages: [{ role: "user", content: "x" }] }, 400, /max_tokens/],
  ];
  for (const [path, body, status, pattern] of cases) {
    const res = await post(gw.url, path, key, body, { "anthropic-version": "2023-06-01" });
    const text = await res.text();
    assert.equal(res.status, status, text);
    assert.match(text, pattern);
    const parsed = JSON.parse(text) as { error?: unknown; type?: string };
    if (path === "/v1/messages") assert.equal(parsed.type, "error");
    else assert.ok(parsed.error);
  }
  // A client that stops halfway through its body: node:http's 400 and a close, and no error of the gateway's own.
  const socket = connect(Number(new URL(gw.url).port), "127.0.0.1");
  let answer = "";
  socket.on("data", (data: Buffer) => (answer += data.toString()));
  socket.end(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${key}\r\n` +
      'content-length: 500\r\n\r\n{"model":',
  );
  await once(socket, "close");
  assert.match(answer, /^HTTP\/1\.1 400 .*connection: close/is);
  assert.equal((await post(gw.url, "/v1/chat/completions", key, hello)).status, 200, "still serving");
  assert.deepEqual(gw.store.query({ kind: "gateway.internal_error" }), []);
});

test("an upstream sending garbage gets a clear 502; a client leaving mid-stream aborts the upstream", async (t) => {
  // A slow stream (40 frames, 50 ms apart) that notes whether its connection closed before the end.
  let closedEarly: (early: boolean) => void = () => undefined;
  const upstreamClosed = new Promise<boolean>((resolve) => (closedEarly = resolve));
  const slow = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    let frames = 0;
    const timer = setInterval(() => {
      if (frames++ < 40)
        res.write(
          `data: ${JSON.stringify({ id: "s", object: "chat.completion.chunk", created: 1, model: "x", choices: [{ index: 0, delta: { content: "word " }, finish_reason: null }] })}\n\n`,
        );
      else res.end("data: [DONE]\n\n");
    }, 50);
    res.on("close", () => {
      clearInterval(timer);
      closedEarly(!res.writableEnded);
    });
  });
  await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    slow.closeAllConnections();
    slow.close();
  });
  const garbage = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end("<html>not json</html>");
  });
  await new Promise<void>((resolve) => garbage.listen(0, "127.0.0.1", resolve));
  t.after(() => garbage.close());
  process.env.GUARD_KEY = REAL_KEY;
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - { id: junk, kind: openai, baseUrl: http://127.0.0.1:${(garbage.address() as { port: number }).port}/v1, keys: [{ env: GUARD_KEY }] }
  - { id: slow, kind: openai, baseUrl: http://127.0.0.1:${(slow.address() as { port: number }).port}/v1, keys: [{ env: GUARD_KEY }] }
models:
  junk: [{ provider: junk, model: x }]
  main: [{ provider: slow, model: sim-large }]
agents:
  - { name: coder, command: x, workspace: /tmp }
`,
  );
  const res = await post(gw.url, "/v1/chat/completions", gw.key("coder"), { ...hello, model: "junk" });
  assert.equal(res.status, 502);
  assert.match(await res.text(), /junk answered with something that is not JSON/);

  await new Promise<void>((resolve) => {
    const req = request(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${gw.key("coder")}`, "content-type": "application/json" },
    });
    req.on("response", (r) => {
      r.once("data", () => {
        req.destroy();
        resolve();
      });
    });
    req.end(JSON.stringify({ ...hello, stream: true }));
  });
  assert.equal(
    await upstreamClosed,
    true,
    "the upstream's stream was cut before its end: the gateway aborted it",
  );
  const record = await waitFor(
    () => gw.store.query({ kind: "gateway.request" }).find((e) => e.data.provider === "slow"),
    "the aborted request's record",
  );
  assert.equal(record.data.status, 499);
});

test("no real provider key in the ledger, the logs or any error body", async (t) => {
  const { gw } = await setup(t);
  const bodies: string[] = [];
  bodies.push(await (await post(gw.url, "/v1/chat/completions", gw.key("coder"), hello)).text());
  bodies.push(await (await post(gw.url, "/v1/chat/completions", "wrong", hello)).text());
  bodies.push(await (await post(gw.url, "/v1/chat/completions", gw.key("coder"), { model: "main" })).text());
  gw.store.flush();
  const state = join(gw.dir, "state");
  const files = readdirSync(state, { recursive: true }).map(String);
  for (const file of files) {
    const content = readFileSync(join(state, file));
    assert.ok(!content.includes(REAL_KEY), `${file} holds the real key`);
  }
  for (const body of bodies) assert.ok(!body.includes(REAL_KEY));
  assert.ok(files.includes("ledger.db"));
});

test("a client that does not read its stream holds the upstream back instead of the gateway buffering it", async (t) => {
  const total = 100 * 1024 * 1024;
  const frame = Buffer.from(
    `data: ${JSON.stringify({
      id: "c",
      object: "chat.completion.chunk",
      created: 1,
      model: "x",
      choices: [{ index: 0, delta: { content: "a".repeat(64 * 1024) }, finish_reason: null }],
    })}\n\n`,
  );
  let sent = 0;
  let movedAt = Date.now();
  const upstream = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    void (async () => {
      while (sent < total && !res.destroyed) {
        sent += frame.length;
        movedAt = Date.now();
        if (!res.write(frame)) await once(res, "drain").catch(() => undefined);
      }
      res.end("data: [DONE]\n\n");
    })();
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  process.env.GUARD_KEY = REAL_KEY;
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - { id: up, kind: openai, baseUrl: http://127.0.0.1:${(upstream.address() as { port: number }).port}/v1, keys: [{ env: GUARD_KEY }] }
models:
  main: [{ provider: up, model: x }]
agents:
  - { name: coder, command: x, workspace: /tmp }
`,
  );
  const body = JSON.stringify({ ...hello, stream: true });
  const socket = connect(Number(new URL(gw.url).port), "127.0.0.1");
  socket.pause(); // an agent that stops reading
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${gw.key("coder")}\r\n` +
      `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
  );
  // Wait until the upstream stalls (no frame for 300 ms) or is done: held back, or everything buffered.
  await waitFor(() => sent > 0 && (sent >= total || Date.now() - movedAt >= 300), "the upstream to stall");
  const held = sent;
  socket.destroy();
  assert.ok(held > 0, "the stream started");
  assert.ok(held < total / 2, `the upstream sent ${held} of ${total} bytes to a client that read none`);
});
