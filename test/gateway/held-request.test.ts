/** A request held for its call keeps the caller's bytes, and lets its parsed tree go when the first provider takes those bytes as they are. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { holdRequest, passesAsIs } from "../../src/gateway/held-request.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Whether the parsed body handed to `hold` is still alive after `hold` has run, a turn has passed and a full collection. */
async function survives(hold: (body: Record<string, unknown>, raw: Buffer) => unknown) {
  const text = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] });
  let ref: WeakRef<object> | undefined;
  const held = (() => {
    const body = JSON.parse(text) as Record<string, unknown>;
    ref = new WeakRef(body);
    return hold(body, Buffer.from(text));
  })();
  await new Promise((resolve) => setImmediate(resolve)); // a WeakRef keeps its target to the end of the turn
  gc();
  return { alive: ref?.deref() !== undefined, held, text };
}

test("the tree is let go when the first entry takes the bytes as they are, and parsed again on demand", async () => {
  const { alive, held, text } = await survives((body, raw) =>
    holdRequest("openai", body, raw, { kind: "openai", model: "m" }),
  );
  assert.equal(alive, false, "the parsed tree is not held for the call");
  const request = held as ReturnType<typeof holdRequest>;
  assert.deepEqual(request.body(), JSON.parse(text));
  assert.equal(request.body(), request.body(), "parsed again once per call, not on every use");
  assert.equal(request.model, "m");
});

test("the tree is kept when the first entry needs a changed body, or there are no bytes to fall back on", async () => {
  const renamed = await survives((body, raw) =>
    holdRequest("openai", body, raw, { kind: "openai", model: "other" }),
  );
  assert.equal(renamed.alive, true, "another model name: the body is re-encoded, so the tree stays");
  const translated = await survives((body) =>
    holdRequest("anthropic", body, undefined, { kind: "openai", model: "m" }),
  );
  assert.equal(translated.alive, true, "no bytes that are the request: the tree is all there is");
});

test("bytes pass as they are only in the same protocol, under the same name, with usage asked for on an OpenAI stream", () => {
  const fields = { model: "m", stream: false, includeUsage: false };
  assert.equal(passesAsIs("openai", "openai", fields, "m"), true);
  assert.equal(passesAsIs("openai", "openai", fields, "n"), false);
  assert.equal(passesAsIs("anthropic", "openai", fields, "m"), false);
  assert.equal(passesAsIs("openai", "openai", { ...fields, stream: true }, "m"), false);
  assert.equal(passesAsIs("openai", "openai", { ...fields, stream: true, includeUsage: true }, "m"), true);
  assert.equal(passesAsIs("anthropic", "anthropic", { ...fields, stream: true }, "m"), true);
});
