/** Chat → Anthropic requests: the round trip back, system handling, tool calls and results, parameters. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChatCompletionRequest, ChatToolChoice } from "../../../src/gateway/protocols/openai-types.ts";
import { anthropicToOpenai, openaiToAnthropic } from "../../../src/gateway/protocols/translate-request.ts";

const tools: ChatCompletionRequest["tools"] = [
  {
    type: "function",
    function: {
      name: "read",
      description: "Read a file",
      parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
    },
  },
  {
    type: "function",
    function: { name: "exec", description: "Run a command", parameters: { type: "object", properties: {} } },
  },
];

/** The shape OpenClaw sends: system prompt, tools, a tool loop, and its own user message after results. */
const agentRequest: ChatCompletionRequest = {
  model: "strategic",
  messages: [
    { role: "system", content: "You are the coordinator." },
    { role: "user", content: "Read a.txt and b.txt" },
    {
      role: "assistant",
      content: "Reading both.",
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "read", arguments: '{"path":"a.txt"}' } },
        { id: "call_2", type: "function", function: { name: "read", arguments: '{"path":"b.txt"}' } },
      ],
    },
    { role: "tool", tool_call_id: "call_1", content: "alpha" },
    { role: "tool", tool_call_id: "call_2", content: "beta" },
    { role: "user", content: "[context] 2 files read" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_3", type: "function", function: { name: "exec", arguments: "{}" } }],
    },
    { role: "tool", tool_call_id: "call_3", content: "ok" },
    { role: "assistant", content: "Both read." },
    { role: "user", content: "Thanks" },
  ],
  tools,
  tool_choice: "auto",
  max_completion_tokens: 8192,
  stream: true,
  stream_options: { include_usage: true },
};

test("openai → anthropic → openai keeps messages, tools, tool calls, results and limits", () => {
  const anthropic = openaiToAnthropic(agentRequest, { model: "claude-opus" });
  const back = anthropicToOpenai(anthropic, { model: "gpt-4o" });
  assert.deepEqual(back.messages, agentRequest.messages);
  assert.deepEqual(back.tools, tools);
  assert.equal(back.tool_choice, "auto");
  assert.equal(back.max_completion_tokens, 8192);
  assert.equal(back.stream, true);
  assert.deepEqual(back.stream_options, { include_usage: true });
  assert.equal(back.model, "gpt-4o");
});

test("openai → anthropic: tool results merge into one user turn, results first, calls become tool_use", () => {
  const out = openaiToAnthropic(agentRequest, { model: "claude-opus" });
  assert.equal(out.model, "claude-opus");
  assert.equal(out.system, "You are the coordinator.");
  assert.deepEqual(
    out.messages.map((message) => message.role),
    ["user", "assistant", "user", "assistant", "user", "assistant", "user"],
    "roles alternate",
  );
  assert.deepEqual(out.messages[1]?.content, [
    { type: "text", text: "Reading both." },
    { type: "tool_use", id: "call_1", name: "read", input: { path: "a.txt" } },
    { type: "tool_use", id: "call_2", name: "read", input: { path: "b.txt" } },
  ]);
  assert.deepEqual(out.messages[2]?.content, [
    { type: "tool_result", tool_use_id: "call_1", content: "alpha" },
    { type: "tool_result", tool_use_id: "call_2", content: "beta" },
    { type: "text", text: "[context] 2 files read" },
  ]);
  assert.deepEqual(out.tools?.[0], {
    name: "read",
    description: "Read a file",
    input_schema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
  });
  assert.deepEqual(out.tool_choice, { type: "auto" });
  assert.equal(out.max_tokens, 8192);
  assert.equal(out.stream, true);
});

test("openai → anthropic: system and developer messages anywhere become the system blocks, in order", () => {
  const out = openaiToAnthropic(
    {
      model: "m",
      messages: [
        { role: "system", content: "Rule one." },
        { role: "developer", content: [{ type: "text", text: "Rule two." }] },
        { role: "user", content: "hi" },
        { role: "system", content: "Late rule." },
      ],
    },
    { model: "claude" },
  );
  assert.deepEqual(out.system, [
    { type: "text", text: "Rule one." },
    { type: "text", text: "Rule two." },
    { type: "text", text: "Late rule." },
  ]);
  assert.deepEqual(out.messages, [{ role: "user", content: "hi" }]);
  const none = openaiToAnthropic({ model: "m", messages: [{ role: "user", content: "hi" }] }, { model: "c" });
  assert.equal(none.system, undefined);
});

test("openai → anthropic: tool_choice auto / none / required / named, and parallel_tool_calls false", () => {
  const cases: [ChatToolChoice | undefined, boolean | undefined, unknown][] = [
    ["auto", undefined, { type: "auto" }],
    ["none", undefined, { type: "none" }],
    ["required", undefined, { type: "any" }],
    [{ type: "function", function: { name: "exec" } }, undefined, { type: "tool", name: "exec" }],
    ["required", false, { type: "any", disable_parallel_tool_use: true }],
    [undefined, false, { type: "auto", disable_parallel_tool_use: true }],
    [undefined, undefined, undefined],
  ];
  for (const [choice, parallel, expected] of cases) {
    const req: ChatCompletionRequest = { model: "m", messages: [{ role: "user", content: "x" }], tools };
    if (choice !== undefined) req.tool_choice = choice;
    if (parallel !== undefined) req.parallel_tool_calls = parallel;
    assert.deepEqual(openaiToAnthropic(req, { model: "c" }).tool_choice, expected, JSON.stringify(choice));
  }
  const noTools = openaiToAnthropic(
    { model: "m", messages: [{ role: "user", content: "x" }], tool_choice: "required" },
    { model: "c" },
  );
  assert.equal(noTools.tools, undefined);
  assert.equal(noTools.tool_choice, undefined, "Anthropic rejects a tool_choice without tools");
});

test("openai → anthropic: token limits, stop, temperature and top_p", () => {
  const base: ChatCompletionRequest = { model: "m", messages: [{ role: "user", content: "x" }] };
  assert.equal(openaiToAnthropic(base, { model: "c" }).max_tokens, 4096);
  assert.equal(openaiToAnthropic(base, { model: "c", defaultMaxTokens: 1000 }).max_tokens, 1000);
  assert.equal(openaiToAnthropic({ ...base, max_tokens: 300 }, { model: "c" }).max_tokens, 300);
  assert.equal(
    openaiToAnthropic({ ...base, max_tokens: 300, max_completion_tokens: 500 }, { model: "c" }).max_tokens,
    500,
  );
  assert.deepEqual(openaiToAnthropic({ ...base, stop: "END" }, { model: "c" }).stop_sequences, ["END"]);
  assert.deepEqual(openaiToAnthropic({ ...base, stop: ["a", "b"] }, { model: "c" }).stop_sequences, [
    "a",
    "b",
  ]);
  const sampled = openaiToAnthropic({ ...base, temperature: 1.6, top_p: 0.9, user: "coder" }, { model: "c" });
  assert.equal(sampled.temperature, 1, "OpenAI's 0–2 range is clamped to Anthropic's 0–1");
  assert.equal(sampled.top_p, undefined, "newer Claude models refuse temperature and top_p together");
  assert.deepEqual(sampled.metadata, { user_id: "coder" });
  assert.equal(openaiToAnthropic({ ...base, top_p: 0.5 }, { model: "c" }).top_p, 0.5);
});

test("openai → anthropic: images, PDFs, odd tool ids and broken tool arguments", () => {
  const out = openaiToAnthropic(
    {
      model: "m",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
            { type: "file", file: { filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0=" } },
            { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
          ],
        },
        {
          role: "assistant",
          content: "",
          tool_calls: [
            { id: "functions.read:0", type: "function", function: { name: "read", arguments: "{not json" } },
          ],
        },
        { role: "tool", tool_call_id: "functions.read:0", content: [{ type: "text", text: "done" }] },
      ],
    },
    { model: "c" },
  );
  assert.deepEqual(out.messages[0]?.content, [
    { type: "text", text: "What is this?" },
    { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
    { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
    {
      type: "document",
      source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" },
      title: "a.pdf",
    },
  ]);
  assert.deepEqual(out.messages[1]?.content, [
    { type: "tool_use", id: "functions_read_0", name: "read", input: {} },
  ]);
  assert.deepEqual(out.messages[2]?.content, [
    { type: "tool_result", tool_use_id: "functions_read_0", content: [{ type: "text", text: "done" }] },
  ]);
});
