/** Chat chunks → Responses events (what Codex reads): item lifecycle, final response, usage, no buffering. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  ResponsesResponse,
  ResponsesStreamEvent,
} from "../../../src/gateway/protocols/responses-types.ts";
import { parseSse } from "../../../src/gateway/protocols/sse.ts";
import {
  anthropicStreamToOpenai,
  openaiStreamToResponses,
} from "../../../src/gateway/protocols/translate-stream.ts";
import type { TokenUsage } from "../../../src/gateway/protocols/usage.ts";
import {
  ANTHROPIC_TOOL_STREAM,
  OPENAI_LENGTH_STREAM,
  OPENAI_TOOL_STREAM,
  withCrlf,
} from "./recorded-streams.ts";
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
  const output = openaiStreamToResponses(parseSse(fromArray(chunks)), {
    model: "gpt-5-codex",
    onUsage: (usage) => usages.push(usage),
  });
  const frames = await decodeFrames(output);
  const events = frames.map((frame) => frame.json as ResponsesStreamEvent);
  frames.forEach((frame, i) => assert.equal(frame.event, events[i]?.type, "event name = type"));
  assert.deepEqual(
    events.map((event) => event.sequence_number),
    events.map((_, i) => i),
    "sequence numbers count up from 0",
  );
  return { events, usages };
}

function finalResponse(events: ResponsesStreamEvent[]): ResponsesResponse {
  const last = events.at(-1);
  assert.ok(last && "response" in last);
  return last.response;
}

test("a recorded text + two tool calls stream becomes message and function_call items, then response.completed", async () => {
  for (const sizes of AWKWARD_SPLITS) {
    for (const text of [OPENAI_TOOL_STREAM, withCrlf(OPENAI_TOOL_STREAM)]) {
      const { events, usages } = await translate(splitBytes(text, sizes));
      assert.deepEqual(
        events.map((event) => event.type),
        [
          "response.created",
          "response.in_progress",
          "response.output_item.added",
          "response.content_part.added",
          "response.output_text.delta",
          "response.output_text.delta",
          "response.output_text.done",
          "response.content_part.done",
          "response.output_item.done",
          "response.output_item.added",
          "response.function_call_arguments.delta",
          "response.function_call_arguments.delta",
          "response.function_call_arguments.done",
          "response.output_item.done",
          "response.output_item.added",
          "response.function_call_arguments.delta",
          "response.function_call_arguments.done",
          "response.output_item.done",
          "response.completed",
        ],
      );
      const created = events[0];
      assert.equal(created?.type === "response.created" ? created.response.status : undefined, "in_progress");
      const response = finalResponse(events);
      assert.equal(response.status, "completed");
      assert.equal(response.model, "gpt-5-codex");
      assert.equal(response.id, created?.type === "response.created" ? created.response.id : undefined);
      const [message, weather, time] = response.output;
      assert.deepEqual(message?.type === "message" ? message.content : undefined, [
        { type: "output_text", text: "Let me check the weather ☀️ in Zürich.", annotations: [] },
      ]);
      assert.deepEqual(
        weather?.type === "function_call"
          ? [weather.call_id, weather.name, weather.arguments, weather.status]
          : [],
        ["call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", '{"location":"Zürich"}', "completed"],
      );
      assert.deepEqual(time?.type === "function_call" ? [time.call_id, time.name, time.arguments] : [], [
        "call_7k2Lq",
        "get_time",
        '{"tz":"CET"}',
      ]);
      const doneItems = events.flatMap((event) =>
        event.type === "response.output_item.done" ? [event.item] : [],
      );
      assert.deepEqual(doneItems, response.output, "each output_item.done carries the finished item");
      assert.deepEqual(response.usage, {
        input_tokens: 5712,
        output_tokens: 61,
        total_tokens: 5773,
        input_tokens_details: { cached_tokens: 4096 },
        output_tokens_details: { reasoning_tokens: 0 },
      });
      assert.deepEqual(usages, [{ inputTokens: 5712, outputTokens: 61 }]);
    }
  }
});

test("output text deltas and item references agree with the final items", async () => {
  const { events } = await translate([OPENAI_TOOL_STREAM]);
  const response = finalResponse(events);
  let text = "";
  for (const event of events) {
    if (event.type === "response.output_text.delta") {
      assert.equal(event.item_id, response.output[event.output_index]?.id);
      text += event.delta;
    }
    if (event.type === "response.function_call_arguments.delta") {
      assert.equal(event.item_id, response.output[event.output_index]?.id);
    }
  }
  assert.equal(text, "Let me check the weather ☀️ in Zürich.");
});

test("finish_reason length ends with response.incomplete and max_output_tokens", async () => {
  const { events } = await translate([OPENAI_LENGTH_STREAM]);
  assert.equal(events.at(-1)?.type, "response.incomplete");
  const response = finalResponse(events);
  assert.equal(response.status, "incomplete");
  assert.deepEqual(response.incomplete_details, { reason: "max_output_tokens" });
  assert.equal(response.output[0]?.status, "incomplete");
});

test("events are yielded as each chunk arrives, before the upstream has finished", async () => {
  const source = controlledSource<string>();
  const frames = OPENAI_TOOL_STREAM.split(/(?<=\n\n)/);
  const output = openaiStreamToResponses(parseSse(source.iterable), { model: "m" })[Symbol.asyncIterator]();
  source.push(frames[0] ?? "");
  assert.match(await nextWithin(output), /^event: response.created\n/);
  assert.match(await nextWithin(output), /^event: response.in_progress\n/);
  source.push(frames[1] ?? "");
  assert.match(await nextWithin(output), /^event: response.output_item.added\n/);
  assert.match(await nextWithin(output), /^event: response.content_part.added\n/);
  assert.match(await nextWithin(output), /"delta":"Let me check "/);
  assert.equal(source.ended, false, "the upstream is still open");
  source.end();
});

test("an upstream error or a cut stream ends with response.failed and no usage", async () => {
  const head = OPENAI_TOOL_STREAM.split(/(?<=\n\n)/)
    .slice(0, 3)
    .join("");
  const error = 'data: {"error":{"message":"upstream exploded","type":"server_error"}}\n\n';
  for (const input of [[head, error], [head], []]) {
    const { events, usages } = await translate(input);
    assert.equal(events.at(-1)?.type, "response.failed");
    const response = finalResponse(events);
    assert.equal(response.status, "failed");
    assert.ok(response.error?.message);
    assert.deepEqual(usages, []);
  }
});

test("an Anthropic upstream reaches a Responses client through the chat stream, usage included", async () => {
  const chat = anthropicStreamToOpenai(parseSse(fromArray(splitBytes(ANTHROPIC_TOOL_STREAM, [5, 3]))), {
    model: "m",
    includeUsage: true, // without it the Responses stage sees no usage chunk and reports zeros
  });
  const frames = await decodeFrames(openaiStreamToResponses(parseSse(chat), { model: "gpt-5-codex" }));
  const response = finalResponse(frames.map((frame) => frame.json as ResponsesStreamEvent));
  assert.equal(response.status, "completed");
  assert.deepEqual(
    response.output.map((item) => (item.type === "message" ? item.content[0]?.text : item.arguments)),
    ["Okay, checking San Francisco 🌉 — héllo:", '{"location": "San Francisco, CA", "unit": "fahrenheit"}'],
  );
  assert.equal(response.usage?.input_tokens, 572);
  assert.equal(response.usage?.output_tokens, 89);
});
