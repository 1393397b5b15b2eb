/** What the provider receives: the caller's own bytes when nothing needs changing, a re-encoded body when something does. */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type TestContext, test } from "node:test";
import { readBody } from "../../src/read-body.ts";
import { startGateway } from "../support/gateway.ts";

const ANSWER = JSON.stringify({
  id: "c1",
  object: "chat.completion",
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const STREAM =
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"ok"}}]}\n\n' +
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n' +
  "data: [DONE]\n\n";

/** An OpenAI-format upstream that keeps every request body it was sent. */
async function capturingUpstream(t: TestContext) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const text = body?.toString("utf8") ?? "";
      seen.push(text);
      const stream = (JSON.parse(text) as { stream?: boolean }).stream === true;
      res.writeHead(200, { "content-type": stream ? "text/event-stream" : "application/json" });
      res.end(stream ? STREAM : ANSWER);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function setup(t: TestContext) {
  const upstream = await capturingUpstream(t);
  process.env.PAYLOAD_KEY = "sk-payload";
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - { id: p, kind: openai, baseUrl: ${upstream.url}/v1, keys: [{ env: PAYLOAD_KEY }] }
models:
  gpt-x: [{ provider: p, model: gpt-x }]
  logical: [{ provider: p, model: gpt-x }]
agents:
  - { name: coder, command: x, workspace: /tmp, model: gpt-x }
`,
  );
  const send = async (body: string) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${gw.key("coder")}`, "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 200, await res.clone().text());
    await res.text();
    return upstream.seen.at(-1) as string;
  };
  return send;
}

// Odd spacing and key order survive only if the bytes are passed on untouched.
const asWritten = (extra = "") =>
  `{ "messages" : [ {"content":"hi","role":"user"} ],\n  "model":"gpt-x"${extra}, "x_vendor_field": 7 }`;

test("the caller's bytes go upstream unchanged when the model and the protocol already match", async (t) => {
  const send = await setup(t);
  const body = asWritten();
  assert.equal(await send(body), body);
  const streamed = asWritten(`, "stream": true, "stream_options": {"include_usage": true}`);
  assert.equal(await send(streamed), streamed);
});

test("a body that needs a change is re-encoded: the provider's model, usage asked for on a stream", async (t) => {
  const send = await setup(t);
  const renamed = asWritten().replace('"gpt-x"', '"logical"');
  const sent = JSON.parse(await send(renamed)) as Record<string, unknown>;
  assert.deepEqual(sent, { ...(JSON.parse(renamed) as object), model: "gpt-x" });

  const streamed = asWritten(`, "stream": true`);
  const sentStream = JSON.parse(await send(streamed)) as Record<string, unknown>;
  assert.deepEqual(sentStream.stream_options, { include_usage: true });
  assert.equal(sentStream.x_vendor_field, 7);
});

test("after a failover to a renamed model, the body parsed again from the caller's bytes is what goes upstream", async (t) => {
  const upstream = await capturingUpstream(t);
  const dead = createServer();
  await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise((resolve) => dead.close(resolve)); // nothing listens there now: refused
  process.env.PAYLOAD_KEY = "sk-payload";
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - { id: gone, kind: openai, baseUrl: http://127.0.0.1:${deadPort}/v1, keys: [{ env: PAYLOAD_KEY }] }
  - { id: p, kind: openai, baseUrl: ${upstream.url}/v1, keys: [{ env: PAYLOAD_KEY }] }
models:
  mixed: [{ provider: gone, model: mixed }, { provider: p, model: gpt-x }]
agents:
  - { name: coder, command: x, workspace: /tmp, model: mixed }
`,
  );
  const body = asWritten().replace('"gpt-x"', '"mixed"');
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${gw.key("coder")}`, "content-type": "application/json" },
    body,
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get("x-flotilla-provider"), "p");
  await res.text();
  assert.deepEqual(JSON.parse(upstream.seen.at(-1) as string), {
    ...(JSON.parse(body) as object),
    model: "gpt-x",
  });
});

test("a prompt trimmed to the window is what goes upstream, even when its model and protocol match", async (t) => {
  const upstream = await capturingUpstream(t);
  process.env.PAYLOAD_KEY = "sk-payload";
  const gw = await startGateway(
    t,
    `version: 1
gateway: { contextStrategy: middle-out }
providers:
  - { id: p, kind: openai, baseUrl: ${upstream.url}/v1, keys: [{ env: PAYLOAD_KEY }] }
models:
  gpt-x: [{ provider: p, model: gpt-x, contextWindow: 2800 }]
agents:
  - { name: coder, command: x, workspace: /tmp, model: gpt-x }
`,
  );
  const turn = "word ".repeat(400);
  const messages = [
    { role: "system", content: "rules" },
    ...[1, 2, 3, 4].flatMap((n) => [
      { role: "user", content: `question ${n} ${turn}` },
      { role: "assistant", content: `answer ${n} ${turn}` },
    ]),
    { role: "user", content: "the latest question" },
  ];
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${gw.key("coder")}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-x", messages }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  await res.text();
  const sent = (JSON.parse(upstream.seen.at(-1) as string) as { messages: Array<{ content: string }> })
    .messages;
  assert.ok(sent.length < messages.length, `${sent.length} of ${messages.length} messages went upstream`);
  assert.equal(sent[0]?.content, "rules");
  assert.equal(sent.at(-1)?.content, "the latest question");
});
