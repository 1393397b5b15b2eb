/**
 * A provider's stream that breaks off after it began: the agent's stream ends with an error event in its
 * own protocol (the official SDKs raise it), not a hang; a break before the first byte fails over instead.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { type AddressInfo, createServer } from "node:net";
import { type TestContext, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { createSimulator } from "../../src/sim/simulator.ts";
import { startGateway } from "../support/gateway.ts";

const KEY = "sk-stream-cut-key";
const FRAME = `data: ${JSON.stringify({
  id: "c",
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [{ index: 0, delta: { role: "assistant", content: "Hel" }, finish_reason: null }],
})}\n\n`;

/** An upstream that sends a stream's head and one frame, then closes (`cut`) or resets, mid-stream. */
async function cuttingUpstream(t: TestContext) {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", () => {
      socket.write(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
          `${Buffer.byteLength(FRAME).toString(16)}\r\n${FRAME}\r\n`,
      );
      setTimeout(() => socket.destroy(), 30);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

test(
  "a stream cut mid-way ends with an error event the official SDKs raise, for OpenAI and Anthropic callers",
  { timeout: 60_000 },
  async (t) => {
    const cut = await cuttingUpstream(t);
    process.env.CUT_KEY = KEY;
    const gw = await startGateway(
      t,
      `version: 1
providers:
  - { id: cut, kind: openai, baseUrl: ${cut}, keys: [{ env: CUT_KEY }] }
models:
  main: [{ provider: cut, model: m }]
agents:
  - { name: coder, command: x, workspace: /tmp }
`,
    );
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key("coder"), maxRetries: 0 });
    const started = performance.now();
    let text = "";
    await assert.rejects(
      async () => {
        const stream = await openai.chat.completions.create({
          model: "main",
          messages: [{ role: "user", content: "hi" }],
          stream: true,
        });
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      },
      (err: Error) => /cut: the stream broke off/.test(err.message),
    );
    assert.equal(text, "Hel", "what came before the break reached the agent");
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: gw.key("coder"), maxRetries: 0 });
    await assert.rejects(
      async () => {
        const stream = await anthropic.messages.create({
          model: "main",
          max_tokens: 50,
          messages: [{ role: "user", content: "hi" }],
          stream: true,
        });
        for await (const event of stream) void event;
      },
      (err: Error) => /cut: the stream broke off/.test(err.message),
    );
    const ms = performance.now() - started;
    t.diagnostic(`two cut streams ended with an error event in ${ms.toFixed(0)} ms`);
    assert.ok(ms < 2_000, `took ${ms.toFixed(0)} ms`);
    const broken = gw.store.query({ kind: "gateway.stream_broken" });
    assert.equal(broken.length, 2);
  },
);

test(
  "a stream whose provider breaks before its first byte fails over to the next chain entry",
  { timeout: 60_000 },
  async (t) => {
    const server = createServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () =>
        socket.end(
          "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        ),
      );
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    t.after(() => server.close());
    const sim = createSimulator({ keys: { [KEY]: {} }, latency: { firstTokenMs: 0, jitterMs: 0 } });
    const simUrl = await sim.start();
    t.after(() => sim.close());
    process.env.CUT_KEY = KEY;
    const gw = await startGateway(
      t,
      `version: 1
providers:
  - { id: empty, kind: openai, baseUrl: http://127.0.0.1:${(server.address() as AddressInfo).port}/v1, keys: [{ env: CUT_KEY }] }
  - { id: sim, kind: openai, baseUrl: ${simUrl}/v1, keys: [{ env: CUT_KEY }] }
models:
  main: [{ provider: empty, model: m }, { provider: sim, model: sim-small }]
agents:
  - { name: coder, command: x, workspace: /tmp }
`,
    );
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key("coder"), maxRetries: 0 });
    const { data, response } = await openai.chat.completions
      .create({ model: "main", messages: [{ role: "user", content: "hi" }], stream: true })
      .withResponse();
    let text = "";
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? "";
    assert.ok(text.length > 0);
    assert.equal(response.headers.get("x-flotilla-provider"), "sim");
    const failed = gw.store.query({ kind: "gateway.attempt_failed" });
    assert.equal(failed[0]?.data.provider, "empty");
  },
);
