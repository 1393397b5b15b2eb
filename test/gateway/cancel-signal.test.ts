/** The request's cancel signal: listeners run once at the abort, removed ones never, late ones never. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RequestCancel } from "../../src/gateway/cancel-signal.ts";

test("abort runs each remaining listener once, functions and handleEvent objects alike", () => {
  const cancel = new RequestCancel();
  const calls: string[] = [];
  const fn = () => calls.push("fn");
  const removed = () => calls.push("removed");
  const handler = { handleEvent: () => calls.push("object") };
  cancel.addEventListener("abort", fn);
  cancel.addEventListener("abort", removed);
  cancel.addEventListener("abort", handler, { once: true });
  cancel.removeEventListener("abort", removed);
  assert.equal(cancel.aborted, false);
  cancel.abort();
  cancel.abort();
  assert.equal(cancel.aborted, true);
  assert.deepEqual(calls, ["fn", "object"]);
  cancel.addEventListener("abort", () => calls.push("late"));
  cancel.abort();
  assert.deepEqual(calls, ["fn", "object"], "nothing added after the abort runs");
});
