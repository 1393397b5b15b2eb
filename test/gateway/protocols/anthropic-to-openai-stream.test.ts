/** Anthropic event stream → chat chunks: recorded streams split at awkward bytes, no buffering, usage, errors. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChatCompletionChunk } from "../../../src/gateway/protocols/openai-types.ts";
import { parseSse } from "../../../src/gateway/protocols/sse.ts";
import { anthropicStreamToOpenai } from "../../../src/gateway/protocols/translate-stream.ts";
import type { TokenUsage } from "../../../src/gateway/protocols/usage.ts";
import { ANTHROPIC_TOOL_STREAM, withCrlf } from "./recorded-streams.ts";
import {
  AWKWARD_SPLITS,
  controlledSource,
  decodeFrames,
  fromArray,
  nextWithin,
  splitBytes,
} from "./stream-helpers.ts";

/** What an OpenAI client builds from the chunks. */
function accumulate(chunks: ChatCompletionChunk[]) {
  let content = "";
  const calls: { id?: string; name?: string; arguments: string }[] = [];
  const finishes: string[] = [];
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? "";
      for (const call of choice.delta.tool_calls ?? []) {
        const slot = (calls[call.index] ??= { arguments: "" });
        if (call.id) slot.id = call.id;
        if (call.function?.name) slot.name = call.function.name;
        slot.arguments += call.function?.arguments ?? "";
      }
      if (choice.finish_reason) finishes.push(choice.finish_reason);
    }
  }
  return { content, calls, finishes };
}

async function translate(chunks: (Uint8Array | string)[], includeUsage: boolean) {
  const usages: TokenUsage[] = [];
  const output = anthropicStreamToOpenai(parseSse(fromArray(chunks)), {
    model: "strategic",
    includeUsage,
    onUsage: (usage) => usages.push(usage),
  });
  const frames = await decodeFrames(output);
  const last = frames.at(-1)?.json;
  const chunks_ = frames.slice(0, -1).map((frame) => frame.json as ChatCompletionChunk);
  return { frames, last, chunks: chunks_, usages };
}

test("a recorded text + tool_use stream becomes role, content, tool-call and finish chunks, then usage and [DONE]", async () => {
  for (const sizes of AWKWARD_SPLITS) {
    for (const text of [ANTHROPIC_TOOL_STREAM, withCrlf(ANTHROPIC_TOOL_STREAM)]) {
      const { last, chunks, usages, frames } = await translate(splitBytes(text, sizes), true);
      const label = `split ${sizes.join(",")}`;
      assert.equal(last, "[DONE]", label);
      assert.ok(
        frames.every((frame) => frame.event === undefined),
        "chat chunks carry no event names",
      );
      assert.deepEqual(chunks[0]?.choices[0]?.delta, { role: "assistant", content: "" }, label);
      assert.ok(
        chunks.every((chunk) => chunk.object === "chat.completion.chunk" && chunk.model === "strategic"),
      );
      assert.equal(new Set(chunks.map((chunk) => chunk.id)).size, 1, "one id for the whole stream");
      const result = accumulate(chunks);
      assert.equal(result.content, "Okay, checking San Francisco 🌉 — héllo:", label);
      assert.equal(result.calls.length, 1);
      assert.equal(result.calls[0]?.id, "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
      assert.equal(result.calls[0]?.name, "get_weather");
      assert.deepEqual(JSON.parse(result.calls[0]?.arguments ?? ""), {
        location: "San Francisco, CA",
        unit: "fahrenheit",
      });
      assert.deepEqual(result.finishes, ["tool_calls"]);
      const usageChunk = chunks.at(-1);
      assert.deepEqual(usageChunk?.choices, []);
      assert.deepEqual(usageChunk?.usage, {
        prompt_tokens: 572,
        completion_tokens: 89,
        total_tokens: 661,
        prompt_tokens_details: { cached_tokens: 100 },
      });
      assert.deepEqual(
        usages,
        [{ inputTokens: 572, outputTokens: 89 }],
        "usage from message_start + message_delta",
      );
    }
  }
});

test("without include_usage no usage chunk is sent, but onUsage still reports the final usage", async () => {
  const { chunks, usages, last } = await translate([ANTHROPIC_TOOL_STREAM], false);
  assert.equal(last, "[DONE]");
  assert.ok(chunks.every((chunk) => chunk.usage === undefined && chunk.choices.length === 1));
  assert.deepEqual(usages, [{ inputTokens: 572, outputTokens: 89 }]);
});

test("each chunk is yielded as soon as its event arrives, before the upstream has finished", async () => {
  const source = controlledSource<Uint8Array>();
  const frames = ANTHROPIC_TOOL_STREAM.split(/(?<=\n\n)/);
  const output = anthropicStreamToOpenai(parseSse(source.iterable), { model: "m" })[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  source.push(encoder.encode(frames[0]));
  assert.match(await nextWithin(output), /"role":"assistant"/, "message_start → role chunk at once");
  // Half a frame yields nothing; the other half completes it.
  const textDelta = encoder.encode(frames[4]);
  source.push(textDelta.subarray(0, 20));
  source.push(textDelta.subarray(20));
  assert.match(await nextWithin(output), /"content":"Okay, checking "/);
  assert.equal(source.ended, false, "the upstream is still open");
  source.push(encoder.encode(frames.slice(5, 8).join("")));
  assert.match(await nextWithin(output), /San Francisco/);
  assert.match(await nextWithin(output), /"name":"get_weather"/);
  source.end();
});

test("an upstream error event becomes an OpenAI error frame, with no [DONE]", async () => {
  const head = ANTHROPIC_TOOL_STREAM.split(/(?<=\n\n)/)
    .slice(0, 2)
    .join("");
  const error =
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
  const { frames } = await translate([head, error], true);
  assert.deepEqual(frames.at(-1)?.json, {
    error: { message: "Overloaded", type: "server_error", param: null, code: null },
  });
  assert.ok(!frames.some((frame) => frame.json === "[DONE]"));
});

test("a stream cut before message_delta ends with an error frame and reports no usage", async () => {
  const cut = ANTHROPIC_TOOL_STREAM.split(/(?<=\n\n)/)
    .slice(0, 5)
    .join("");
  const { frames, usages } = await translate([cut], true);
  const last = frames.at(-1)?.json as { error?: { message: string } };
  assert.match(last.error?.message ?? "", /ended before the message was complete/);
  assert.deepEqual(usages, []);
});
