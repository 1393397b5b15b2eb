/** quick-accept.ts says yes exactly when validate.ts's zod schemas do, over thousands of mutated requests. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  anthropicAccepted,
  chatAccepted,
  responsesAccepted,
} from "../../../src/gateway/protocols/quick-accept.ts";
import { requestSchemas } from "../../../src/gateway/protocols/validate.ts";

const VALUES: unknown[] = [
  undefined,
  null,
  "",
  "x",
  "user",
  "assistant",
  "bot",
  "text",
  0,
  1,
  -1,
  1.5,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  true,
  false,
  [],
  [{}],
  [{ type: "text" }],
  [{ type: 1 }],
  ["s"],
  {},
  { type: "text" },
  { type: 2 },
  { name: "f" },
  { name: "f", arguments: 3 },
  [{ role: "user", content: "x" }],
];

const SEEDS = {
  chat: {
    model: "m",
    messages: [
      { role: "system", content: "s" },
      { role: "user", content: [{ type: "text", text: "hi" }] },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "c", content: "ok" },
    ],
    tools: [{ type: "function", function: { name: "f" } }],
    stream: true,
  },
  anthropic: {
    model: "c",
    max_tokens: 10,
    system: [{ type: "text", text: "s" }],
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: [{ type: "tool_use", id: "t", name: "f", input: {} }] },
    ],
    stream: false,
  },
  responses: { model: "m", input: [{ type: "message", role: "user", content: "hi" }], stream: null },
};

/** Every path to a value inside `node`, objects and arrays alike. */
function paths(node: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(node)) node.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (node && typeof node === "object")
    for (const [k, v] of Object.entries(node)) out.push(...paths(v, [...at, k]));
  return out;
}

/** A copy of `seed` with the value at `path` replaced (undefined deletes an object key). */
function mutate(seed: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(seed) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  if (value === undefined && !Array.isArray(parent)) delete parent[last];
  else parent[last] = value;
  return copy;
}

let seed = 7;
const random = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return (seed >>> 16) % n; // the high bits: an LCG's low bits repeat quickly
};

test("quick-accept agrees with the zod schemas on every mutation of valid requests", () => {
  const checks = { chat: chatAccepted, anthropic: anthropicAccepted, responses: responsesAccepted };
  let accepted = 0;
  let refused = 0;
  for (const kind of ["chat", "anthropic", "responses"] as const) {
    const base = SEEDS[kind];
    assert.ok(checks[kind](base), `${kind} seed accepted`);
    const all = paths(base);
    for (let i = 0; i < 3000; i++) {
      // One or two mutations, so a broken field can hide behind another.
      let body: unknown = base;
      for (let m = 0; m <= random(2); m++) {
        const candidates = paths(body);
        const path = (candidates[random(candidates.length)] ?? all[0]) as (string | number)[];
        body = mutate(body, path, VALUES[random(VALUES.length)]);
      }
      const zod = requestSchemas[kind].safeParse(body).success;
      assert.equal(checks[kind](body), zod, `${kind}: ${JSON.stringify(body)}`);
      if (zod) accepted++;
      else refused++;
    }
  }
  // Both answers were exercised, not just one.
  assert.ok(accepted > 500 && refused > 500, `accepted ${accepted}, refused ${refused}`);
});
