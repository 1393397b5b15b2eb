/** The official OpenAI and Anthropic SDKs, as they come, through the gateway to simulated providers of both kinds. */
import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { createSimulator } from "../../src/sim/simulator.ts";
import { startGateway } from "../support/gateway.ts";

const TOOLS = [
  {
    type: "function" as const,
    function: {
      name: "read_file",
      description: "Read a file",
      parameters: { type: "object", properties: { path: { type: "string" } } },
    },
  },
];

async function fleet(t: TestContext) {
  const sim = createSimulator({ keys: { "real-openai-key-123": {}, "real-anthropic-key-456": {} } });
  const url = await sim.start();
  t.after(() => sim.close());
  process.env.TEST_OPENAI_KEY = "real-openai-key-123";
  process.env.TEST_ANTHROPIC_KEY = "real-anthropic-key-456";
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - { id: oai, kind: openai, baseUrl: ${url}/v1, keys: [{ env: TEST_OPENAI_KEY }] }
  - { id: ant, kind: anthropic, baseUrl: ${url}, keys: [{ env: TEST_ANTHROPIC_KEY }] }
models:
  gpt: [{ provider: oai, model: sim-large }]
  claude: [{ provider: ant, model: sim-large }]
agents:
  - { name: coder, command: x, workspace: /tmp, model: gpt }
`,
  );
  return { sim, gw };
}

test("OpenAI SDK: plain, streamed and tool-calling chat completions, on an OpenAI and an Anthropic provider", async (t) => {
  const { gw } = await fleet(t);
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key("coder") });
  for (const model of ["gpt", "claude"]) {
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: "user", content: "hello there" }] })
      .withResponse();
    assert.equal(data.object, "chat.completion");
    assert.ok((data.choices[0]?.message.content ?? "").length > 0);
    assert.ok((data.usage?.prompt_tokens ?? 0) > 0);
    assert.equal(response.headers.get("x-flotilla-provider"), model === "gpt" ? "oai" : "ant");
    assert.equal(response.headers.get("x-flotilla-tier"), "primary");
    assert.equal(response.headers.get("x-flotilla-model"), "sim-large");

    const stream = await client.chat.completions.create({
      model,
      stream: true,
      messages: [{ role: "user", content: "stream it" }],
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.ok(text.split(" ").length > 3, `streamed text: ${text}`);

    const call = await client.chat.completions.create({
      model,
      tools: TOOLS,
      messages: [{ role: "user", content: "read it" }],
    });
    const toolCall = call.choices[0]?.message.tool_calls?.[0];
    assert.equal(call.choices[0]?.finish_reason, "tool_calls");
    assert.ok(toolCall && toolCall.type === "function");
    assert.equal(toolCall.function.name, "read_file");
    const after = await client.chat.completions.create({
      model,
      tools: TOOLS,
      messages: [
        { role: "user", content: "read it" },
        { role: "assistant", content: null, tool_calls: [toolCall] },
        { role: "tool", tool_call_id: toolCall.id, content: "file contents" },
      ],
    });
    assert.equal(after.choices[0]?.finish_reason, "stop", "text once the tool answered");
  }
});

test("Anthropic SDK: plain, streamed and tool use, with x-api-key or Bearer, on both provider kinds", async (t) => {
  const { gw } = await fleet(t);
  const viaKey = new Anthropic({ baseURL: gw.url, apiKey: gw.key("coder") });
  const viaBearer = new Anthropic({ baseURL: gw.url, authToken: gw.key("coder"), apiKey: null });
  for (const [client, model] of [
    [viaKey, "claude"],
    [viaBearer, "gpt"],
  ] as const) {
    const message = await client.messages.create({
      model,
      max_tokens: 200,
      messages: [{ role: "user", content: "hello" }],
    });
    assert.equal(message.type, "message");
    assert.equal(message.content[0]?.type, "text");
    assert.ok(message.usage.input_tokens > 0);
    const stream = client.messages.stream({
      model,
      max_tokens: 200,
      messages: [{ role: "user", content: "stream" }],
    });
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, "end_turn");
    assert.ok(final.content[0]?.type === "text" && final.content[0].text.length > 0);
    const tools = [
      { name: "read_file", description: "Read", input_schema: { type: "object" as const, properties: {} } },
    ];
    const use = await client.messages.create({
      model,
      max_tokens: 200,
      tools,
      messages: [{ role: "user", content: "read" }],
    });
    assert.equal(use.stop_reason, "tool_use");
    const block = use.content.find((b) => b.type === "tool_use");
    assert.ok(block && block.type === "tool_use");
    const done = await client.messages.create({
      model,
      max_tokens: 200,
      tools,
      messages: [
        { role: "user", content: "read" },
        { role: "assistant", content: use.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: block.id, content: "contents" }] },
      ],
    });
    assert.equal(done.stop_reason, "end_turn");
  }
});

test("OpenAI SDK: the Responses API (what Codex uses), plain and streamed", async (t) => {
  const { gw } = await fleet(t);
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key("coder") });
  const response = await client.responses.create({ model: "gpt", input: "say something" });
  assert.ok(response.output_text.length > 0);
  const stream = await client.responses.create({ model: "claude", input: "stream something", stream: true });
  let text = "";
  for await (const event of stream) if (event.type === "response.output_text.delta") text += event.delta;
  assert.ok(text.length > 0);
});

test("an unknown key is refused with 401 in the caller's format; a bad model names the known ones", async (t) => {
  const { gw } = await fleet(t);
  const stranger = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "flt-coder-forged", maxRetries: 0 });
  await assert.rejects(
    stranger.chat.completions.create({ model: "gpt", messages: [{ role: "user", content: "x" }] }),
    (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 401);
      return true;
    },
  );
  const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "nope", maxRetries: 0 });
  await assert.rejects(
    anthropic.messages.create({ model: "claude", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.status, 401);
      assert.equal((err.error as { error?: { type?: string } }).error?.type, "authentication_error");
      return true;
    },
  );
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${gw.key("coder")}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "nonexistent", messages: [{ role: "user", content: "x" }] }),
  });
  // The agent has a default model, so an unknown name falls back to it.
  assert.equal(res.status, 200);
});
