/** The SSE parser and encoder: split frames, CRLF, comments, multi-line data, UTF-8 across chunks. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeSse, parseSse } from "../../../src/gateway/protocols/sse.ts";
import { ANTHROPIC_TOOL_STREAM, withCrlf } from "./recorded-streams.ts";
import { AWKWARD_SPLITS, collect, fromArray, splitBytes } from "./stream-helpers.ts";

test("a recorded stream parses the same whole, byte by byte, at awkward splits and with CRLF", async () => {
  const whole = await collect(parseSse(fromArray([ANTHROPIC_TOOL_STREAM])));
  assert.equal(whole.length, 13, "twelve events and the ping; the comment is not an event");
  assert.deepEqual(whole[0]?.event, "message_start");
  assert.match(whole[4]?.data ?? "", /San Francisco 🌉 — héllo/);
  for (const sizes of AWKWARD_SPLITS) {
    for (const text of [ANTHROPIC_TOOL_STREAM, withCrlf(ANTHROPIC_TOOL_STREAM)]) {
      const parsed = await collect(parseSse(fromArray(splitBytes(text, sizes))));
      assert.deepEqual(parsed, whole, `split ${sizes.join(",")}${text.includes("\r") ? " with CRLF" : ""}`);
    }
  }
});

test("a CRLF split between chunks is one line end, and a lone CR ends a line too", async () => {
  const parsed = await collect(parseSse(fromArray(["data: a\r", "\n\r", "\ndata: b\r\r"])));
  assert.deepEqual(parsed, [{ data: "a" }, { data: "b" }]);
});

test("multi-line data joins with newlines; comments, ids, retry and data-less frames are skipped", async () => {
  const text = [
    ": a comment\n",
    "id: 7\nretry: 1000\nevent: note\ndata: first\ndata:second\ndata:  third\n\n",
    "event: lonely\n\n",
    "data\n\n",
    'data: {"x":1}\n\n',
  ].join("");
  const parsed = await collect(parseSse(fromArray([text])));
  assert.deepEqual(parsed, [
    { event: "note", data: "first\nsecond\n third" },
    { data: "" },
    { data: '{"x":1}' },
  ]);
});

test("a last frame without its blank line is still dispatched at the end of the stream", async () => {
  assert.deepEqual(await collect(parseSse(fromArray(["data: 1\n\ndata: [DONE]"]))), [
    { data: "1" },
    { data: "[DONE]" },
  ]);
  assert.deepEqual(await collect(parseSse(fromArray(["data: x\n"]))), [{ data: "x" }]);
  assert.deepEqual(await collect(parseSse(fromArray([]))), []);
});

test("encodeSse writes an event line when named and one data line per line", async () => {
  assert.equal(encodeSse('{"a":1}'), 'data: {"a":1}\n\n');
  assert.equal(encodeSse("x", "ping"), "event: ping\ndata: x\n\n");
  assert.equal(encodeSse("one\ntwo\r\nthree"), "data: one\ndata: two\ndata: three\n\n");
  const roundTrip = await collect(parseSse(fromArray([encodeSse("one\ntwo", "e"), encodeSse("")])));
  assert.deepEqual(roundTrip, [{ event: "e", data: "one\ntwo" }, { data: "" }]);
});
