/**
 * The simulator's answers on the wire: whole responses and their headers, streams sent in one write (no chunk
 * delay) byte for byte as frame by frame, limits with 429s and rate-limit headers, bodies split mid-character,
 * and clear 400s for bad input.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { type TestContext, test } from "node:test";
import type { SimOptionsInput } from "../../src/sim/options.ts";
import { createSimulator } from "../../src/sim/simulator.ts";
import { waitFor } from "../support/fleet.ts";

async function start(t: TestContext, options: SimOptionsInput): Promise<string> {
  const sim = createSimulator(options);
  const url = await sim.start();
  t.after(() => sim.close());
  return url;
}

const OPENAI = { authorization: "Bearer sim-key", "content-type": "application/json" };
const ANTHROPIC = { "x-api-key": "sim-key", "anthropic-version": "2023-06-01" };
const SYSTEM = "You are a careful coding agent. ".repeat(8);
const chat = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: "sim-large",
    max_tokens: 64,
    messages: [
      { role: "system", content: SYSTEM },
      { role: "user", content: "Summarise the failing test." },
    ],
    ...extra,
  });

function post(url: string, path: string, headers: Record<string, string>, body: string) {
  return fetch(`${url}${path}`, { method: "POST", headers, body });
}

/** A stream's text with what changes from run to run (ids, timestamps) made constant. */
const steady = (text: string) =>
  text.replace(/"created":\d+/g, '"created":0').replace(/(chatcmpl-|msg_)sim_\w+/g, "$1ID");

test("a whole OpenAI answer: its body, content-length and request id; no rate-limit headers without limits", async (t) => {
  const url = await start(t, { acceptAnyKey: true, keys: {} });
  const res = await post(url, "/v1/chat/completions", OPENAI, chat());
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("content-length"), String(Buffer.byteLength(text)));
  const body = JSON.parse(text) as { id: string; created: number };
  assert.equal(res.headers.get("x-sim-request-id"), body.id);
  assert.deepEqual(
    [...res.headers.keys()].filter((h) => h.startsWith("x-ratelimit")),
    [],
  );
  const promptTokens = Math.ceil(chat().length / 4);
  assert.deepEqual(body, {
    id: "chatcmpl-sim_1",
    object: "chat.completion",
    created: body.created,
    model: "sim-large",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: "steady agents share keys fairly and nothing is lost the fleet runs",
        },
        finish_reason: "stop",
      },
    ],
    usage: { prompt_tokens: promptTokens, completion_tokens: 17, total_tokens: promptTokens + 17 },
  });
});

test("streams without a chunk delay carry the same bytes as frame by frame, OpenAI and Anthropic", async (t) => {
  const oneWrite = await start(t, {});
  const paced = await start(t, { chunkDelayMs: 1 });
  const cases: Array<[string, Record<string, string>, string]> = [
    ["/v1/chat/completions", OPENAI, chat({ stream: true })],
    ["/v1/chat/completions", OPENAI, chat({ stream: true, stream_options: { include_usage: true } })],
    [
      "/v1/chat/completions",
      OPENAI,
      chat({ stream: true, tools: [{ type: "function", function: { name: "grep" } }] }),
    ],
    ["/v1/messages", ANTHROPIC, chat({ stream: true })],
    ["/v1/messages", ANTHROPIC, chat({ stream: true, tools: [{ name: "grep" }] })],
  ];
  for (const [path, headers, body] of cases) {
    const [fast, slow] = await Promise.all(
      [oneWrite, paced].map(async (url) => {
        const res = await post(url, path, headers, body);
        assert.equal(res.headers.get("content-type"), "text/event-stream");
        assert.equal(res.headers.get("transfer-encoding"), "chunked");
        return steady(await res.text());
      }),
    );
    assert.equal(fast, slow, `${path} ${body.slice(-60)}`);
  }
  // And each frame is what JSON.stringify makes of it: the hand-spelt word frames included.
  const res = await post(oneWrite, "/v1/chat/completions", OPENAI, chat({ stream: true }));
  const frames = (await res.text()).split("\n\n").filter((f) => f.startsWith("data: {"));
  for (const frame of frames) assert.equal(frame, `data: ${JSON.stringify(JSON.parse(frame.slice(6)))}`);
  const words = frames.map(
    (f) => JSON.parse(f.slice(6)) as { choices: Array<{ delta: { content?: string } }> },
  );
  assert.equal(
    words.map((w) => w.choices[0]?.delta.content ?? "").join(""),
    "steady agents share keys fairly and nothing is lost the fleet runs",
  );
  const anthropic = await post(oneWrite, "/v1/messages", ANTHROPIC, chat({ stream: true }));
  for (const event of (await anthropic.text()).split("\n\n").filter(Boolean)) {
    const [name, data] = event.split("\n") as [string, string];
    const parsed = JSON.parse(data.slice(6)) as { type: string };
    assert.equal(name, `event: ${parsed.type}`);
    assert.equal(data, `data: ${JSON.stringify(parsed)}`);
  }
});

test("limits: rate-limit headers on every answer, a 429 with retry-after once the rpm is spent", async (t) => {
  const url = await start(t, { keys: { limited: { rpm: 2, tpm: 100_000 } } });
  const headers = { authorization: "Bearer limited" };
  const first = await post(url, "/v1/chat/completions", headers, chat());
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("x-ratelimit-limit-requests"), "2");
  assert.equal(first.headers.get("x-ratelimit-remaining-requests"), "1");
  assert.equal(first.headers.get("x-ratelimit-limit-tokens"), "100000");
  assert.equal((await post(url, "/v1/chat/completions", headers, chat())).status, 200);
  const refused = await post(url, "/v1/chat/completions", headers, chat());
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "60");
  assert.equal(refused.headers.get("x-ratelimit-remaining-requests"), "0");
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "rate_limit_exceeded");
});

test("concurrency: a second request while the first is in flight gets a 429, and the slot comes back", async (t) => {
  const url = await start(t, { keys: { one: { concurrency: 1 } }, latency: { firstTokenMs: 100 } });
  const headers = { authorization: "Bearer one" };
  const first = post(url, "/v1/chat/completions", headers, chat());
  await waitFor(
    async () => ((await (await fetch(`${url}/_sim/stats`)).json()) as { inFlight: number }).inFlight === 1,
    "the first request in flight",
  );
  assert.equal((await post(url, "/v1/chat/completions", headers, chat())).status, 429);
  assert.equal((await first).status, 200);
  assert.equal((await post(url, "/v1/chat/completions", headers, chat())).status, 200);
});

test("a body that arrives in two chunks split inside a character is read whole", async (t) => {
  const url = await start(t, {});
  const body = Buffer.from(JSON.stringify({ messages: [{ role: "user", content: "é".repeat(41) }] }));
  const cut = body.indexOf(Buffer.from("é")) + 1; // between the two bytes of the first é
  const { port } = new URL(url);
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        port,
        method: "POST",
        path: "/v1/chat/completions",
        headers: { ...OPENAI, "content-length": body.length },
      },
      (res) => {
        let out = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (out += chunk));
        res.on("end", () => resolve(out));
      },
    );
    req.on("error", reject);
    req.flushHeaders();
    req.write(body.subarray(0, cut));
    setTimeout(() => req.end(body.subarray(cut)), 20);
  });
  const answer = JSON.parse(text) as {
    usage: { prompt_tokens: number };
    choices: Array<{ message: { content: string } }>;
  };
  // Tokens are counted from the body's characters: a split "é" decoded as two replacement characters would add one.
  assert.equal(answer.usage.prompt_tokens, Math.ceil(body.toString("utf8").length / 4));
  assert.match(
    answer.choices[0]?.message.content ?? "",
    /^share keys fairly/,
    "41 characters pick the sentence",
  );
});

test("bad input gets a clear 400 in the provider's format", async (t) => {
  const url = await start(t, {});
  for (const body of ["{not json", "[1]", "null", JSON.stringify({ messages: [] })]) {
    const res = await post(url, "/v1/chat/completions", OPENAI, body);
    assert.equal(res.status, 400, body);
    const error = (await res.json()) as { error: { message: string; type: string } };
    assert.deepEqual(
      [error.error.message, error.error.type],
      ["messages: must be a non-empty array", "invalid_request_error"],
    );
  }
  const anthropic = await post(url, "/v1/messages", ANTHROPIC, "{not json");
  assert.equal(anthropic.status, 400);
  assert.deepEqual(await anthropic.json(), {
    type: "error",
    error: { type: "invalid_request_error", message: "messages: must be a non-empty array" },
  });
  const noVersion = await post(url, "/v1/messages", { "x-api-key": "sim-key" }, chat());
  assert.equal(noVersion.status, 400);
});
