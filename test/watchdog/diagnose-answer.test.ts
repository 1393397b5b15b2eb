// The model's answer against the diagnosis schema: JSON (optionally fenced), the three fields, clear reasons.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDiagnosis } from "../../src/watchdog/diagnose/answer.ts";

const VALID = { diagnosis: "the gateway's port is taken", confidence: 0.7, actions: [] };

test("a JSON object with the three fields is accepted, bare or in one json fence", () => {
  assert.deepEqual(parseDiagnosis(JSON.stringify(VALID)), { ok: true, value: VALID });
  assert.deepEqual(parseDiagnosis(`\n\`\`\`json\n${JSON.stringify(VALID, null, 2)}\n\`\`\`\n`), {
    ok: true,
    value: VALID,
  });
  assert.deepEqual(parseDiagnosis(`\`\`\`\n${JSON.stringify(VALID)}\n\`\`\``), { ok: true, value: VALID });
});

test("the actions' items are passed on unchecked, garbage included (the fix policy judges them)", () => {
  const actions = [
    "rm -rf /",
    { argv: "not an array" },
    42,
    null,
    { argv: ["flotilla", "restart", "coder"] },
  ];
  const parsed = parseDiagnosis(JSON.stringify({ ...VALID, actions }));
  assert.deepEqual(parsed, { ok: true, value: { ...VALID, actions } });
});

test("confidence 0 and 1 are in range; a short extra field is tolerated and dropped", () => {
  assert.equal(parseDiagnosis(JSON.stringify({ ...VALID, confidence: 0 })).ok, true);
  assert.equal(parseDiagnosis(JSON.stringify({ ...VALID, confidence: 1 })).ok, true);
  assert.deepEqual(parseDiagnosis(JSON.stringify({ ...VALID, note: "checked the logs" })), {
    ok: true,
    value: VALID,
  });
});

const REFUSED: Array<[string, string, RegExp]> = [
  ["prose", "The gateway crashed. Restart it.", /^not JSON \(.*\); it starts "The gateway crashed/],
  ["two fences", "```json\n{}\n```\n```json\n{}\n```", /^not JSON/],
  ["an array", JSON.stringify([VALID]), /^not a JSON object but an array$/],
  ["a string", JSON.stringify("fine"), /^not a JSON object but string$/],
  ["null", "null", /^not a JSON object but null$/],
  [
    "no diagnosis",
    JSON.stringify({ confidence: 0.5, actions: [] }),
    /^diagnosis: must be a non-empty string$/,
  ],
  [
    "a blank diagnosis",
    JSON.stringify({ ...VALID, diagnosis: "  " }),
    /^diagnosis: must be a non-empty string$/,
  ],
  [
    "a numeric diagnosis",
    JSON.stringify({ ...VALID, diagnosis: 5 }),
    /^diagnosis: must be a non-empty string$/,
  ],
  [
    "a long diagnosis",
    JSON.stringify({ ...VALID, diagnosis: "x".repeat(2001) }),
    /^diagnosis: 2001 characters, more than 2000$/,
  ],
  [
    "confidence as text",
    JSON.stringify({ ...VALID, confidence: "0.9" }),
    /^confidence: must be a number from 0 to 1, not "0.9"$/,
  ],
  ["confidence above 1", JSON.stringify({ ...VALID, confidence: 1.5 }), /^confidence: .* not 1.5$/],
  ["confidence below 0", JSON.stringify({ ...VALID, confidence: -0.1 }), /^confidence: .* not -0.1$/],
  ["no confidence", JSON.stringify({ diagnosis: "x", actions: [] }), /^confidence: .* not missing$/],
  [
    "actions as a string",
    JSON.stringify({ ...VALID, actions: "flotilla restart coder" }),
    /^actions: must be an array/,
  ],
  ["no actions", JSON.stringify({ diagnosis: "x", confidence: 0.5 }), /^actions: must be an array/],
  [
    "a huge extra field",
    JSON.stringify({ ...VALID, essay: "y".repeat(5000) }),
    /^fields besides .* \(essay\) take \d+ characters, more than 2000$/,
  ],
  [
    "a huge answer",
    JSON.stringify({ ...VALID, actions: Array(20000).fill({ argv: ["x"] }) }),
    /^the answer is \d+ characters, more than 65536$/,
  ],
];

for (const [what, text, reason] of REFUSED)
  test(`refused with a clear reason: ${what}`, () => {
    const parsed = parseDiagnosis(text);
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? "" : parsed.reason, reason);
  });
