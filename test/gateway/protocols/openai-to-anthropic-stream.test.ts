/** Chat chunks → the Anthropic event sequence: block indices, tool_use blocks, usage, no buffering, errors. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnthropicStreamEvent } from "../../../src/gateway/protocols/anthropic-types.ts";
import { parseSse } from "../../../src/gateway/protocols/sse.ts";
import { openaiStreamToAnthropic } from "../../../src/gateway/protocols/translate-stream.ts";
import type { TokenUsage } from "../../../src/gateway/protocols/usage.ts";
import { OPENAI_LENGTH_STREAM, OPENAI_TOOL_STREAM, withCrlf } from "./recorded-streams.ts";
import {
  AWKWARD_SPLITS,
  controlledSource,
  decodeFrames,
  fromArray,
  nextWithin,
  splitBytes,
} from "./stream-helpers.ts";

async function translate(chunks: (Uint8Array | string)[]) {
  const usages: TokenUsage[] = [];
  const output = openaiStreamToAnthropic(parseSse(fromArray(chunks)), {
    model: "claude-opus",
    onUsage: (usage) => usages.push(usage),
  });
  const frames = await decodeFrames(output);
  for (const frame of frames)
    assert.equal(frame.event, (frame.json as { type: string }).type, "event name = type");
  return { events: frames.map((frame) => frame.json as AnthropicStreamEvent), usages };
}

/** Checks the sequence rules Anthropic clients rely on, and builds the message as the SDK would. */
function replay(events: AnthropicStreamEvent[]) {
  assert.equal(events[0]?.type, "message_start");
  assert.equal(events.at(-1)?.type, "message_stop");
  const blocks: { type: string; text: string; json: string; id?: string; name?: string }[] = [];
  let open: number | undefined;
  let stopReason: string | null | undefined;
  let usage: unknown;
  for (const event of events.slice(1, -1)) {
    if (event.type === "content_block_start") {
      assert.equal(open, undefined, "one block open at a time");
      assert.equal(event.index, blocks.length, "indices count up from 0");
      const block = event.content_block;
      blocks.push({
        type: block.type,
        text: block.type === "text" ? block.text : "",
        json: "",
        ...(block.type === "tool_use" ? { id: block.id, name: block.name } : {}),
      });
      open = event.index;
    } else if (event.type === "content_block_delta") {
      assert.equal(event.index, open, "deltas go to the open block");
      const block = blocks[event.index];
      assert.ok(block);
      if (event.delta.type === "text_delta") block.text += event.delta.text;
      if (event.delta.type === "input_json_delta") block.json += event.delta.partial_json;
    } else if (event.type === "content_block_stop") {
      assert.equal(event.index, open);
      open = undefined;
    } else if (event.type === "message_delta") {
      assert.equal(open, undefined, "all blocks closed before message_delta");
      stopReason = event.delta.stop_reason;
      usage = event.usage;
    } else {
      assert.fail(`unexpected ${event.type}`);
    }
  }
  return { blocks, stopReason, usage };
}

test("a recorded text + two tool calls stream becomes a complete Anthropic event sequence", async () => {
  for (const sizes of AWKWARD_SPLITS) {
    for (const text of [OPENAI_TOOL_STREAM, withCrlf(OPENAI_TOOL_STREAM)]) {
      const { events, usages } = await translate(splitBytes(text, sizes));
      const start = events[0];
      assert.equal(start?.type === "message_start" ? start.message.model : undefined, "claude-opus");
      const { blocks, stopReason, usage } = replay(events);
      assert.deepEqual(
        blocks.map((block) => [block.type, block.text, block.id, block.name]),
        [
          ["text", "Let me check the weather ☀️ in Zürich.", undefined, undefined],
          ["tool_use", "", "call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather"],
          ["tool_use", "", "call_7k2Lq", "get_time"],
        ],
      );
      assert.deepEqual(JSON.parse(blocks[1]?.json ?? ""), { location: "Zürich" });
      assert.deepEqual(JSON.parse(blocks[2]?.json ?? ""), { tz: "CET" });
      assert.equal(stopReason, "tool_use");
      assert.deepEqual(usage, { input_tokens: 1616, output_tokens: 61, cache_read_input_tokens: 4096 });
      assert.deepEqual(usages, [{ inputTokens: 5712, outputTokens: 61 }], "usage from the final usage chunk");
    }
  }
});

test("finish_reason length becomes stop_reason max_tokens", async () => {
  const { events } = await translate([OPENAI_LENGTH_STREAM]);
  const { blocks, stopReason } = replay(events);
  assert.equal(blocks[0]?.text, "Once upon a time");
  assert.equal(stopReason, "max_tokens");
});

test("events are yielded as each chunk arrives, before the upstream has finished", async () => {
  const source = controlledSource<string>();
  const frames = OPENAI_TOOL_STREAM.split(/(?<=\n\n)/);
  const output = openaiStreamToAnthropic(parseSse(source.iterable), { model: "m" })[Symbol.asyncIterator]();
  source.push(frames[0] ?? "");
  assert.match(await nextWithin(output), /^event: message_start\n/);
  source.push(frames[1] ?? "");
  assert.match(await nextWithin(output), /^event: content_block_start\n/);
  assert.match(await nextWithin(output), /"text":"Let me check "/);
  source.push(frames[3] ?? "");
  assert.match(await nextWithin(output), /^event: content_block_stop\n/);
  assert.match(await nextWithin(output), /"type":"tool_use"/);
  assert.equal(source.ended, false, "the upstream is still open");
  source.end();
});

test("without a usage chunk the message still ends at [DONE], with zero counts and no onUsage call", async () => {
  const noUsage = OPENAI_LENGTH_STREAM.split(/(?<=\n\n)/)
    .filter((frame) => !frame.includes('"choices":[]'))
    .join("");
  const { events, usages } = await translate([noUsage]);
  const { usage } = replay(events);
  assert.deepEqual(usage, { input_tokens: 0, output_tokens: 0 });
  assert.deepEqual(usages, []);
});

test("an upstream error frame becomes an Anthropic error event", async () => {
  const error =
    'data: {"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}\n\n';
  const rateLimited = await translate([OPENAI_TOOL_STREAM.split(/(?<=\n\n)/)[0] ?? "", error]);
  assert.deepEqual(rateLimited.events.at(-1), {
    type: "error",
    error: { type: "rate_limit_error", message: "Rate limit reached" },
  });
  const server = 'data: {"error":{"message":"boom","type":"server_error"}}\n\n';
  assert.deepEqual((await translate([server])).events, [
    { type: "error", error: { type: "api_error", message: "boom" } },
  ]);
});

test("an empty or cut stream ends with an error event, never a fake message_stop", async () => {
  for (const input of [
    [],
    [
      OPENAI_TOOL_STREAM.split(/(?<=\n\n)/)
        .slice(0, 3)
        .join(""),
    ],
  ]) {
    const { events, usages } = await translate(input);
    const last = events.at(-1);
    assert.equal(last?.type, "error");
    assert.ok(!events.some((event) => event.type === "message_stop"));
    assert.deepEqual(usages, []);
  }
});
