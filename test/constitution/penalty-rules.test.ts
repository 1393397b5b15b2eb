/** Penalties need three specific fields; vague or missing ones are refused with the reason. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkPenalty, fieldProblem } from "../../src/constitution/penalty-rules.ts";
import { FlotillaError } from "../../src/errors.ts";

const GOOD = {
  agent: "coder",
  what: "Reported the billing migration as finished while two of its tests were failing",
  why: "I read the summary line of the test run and not the failures listed above it",
  change: "I paste the full test summary with the failure count into every done report",
};

function rejects(input: Record<string, unknown>, pattern: RegExp, agents?: string[]): void {
  assert.throws(
    () => checkPenalty(input, agents),
    (err) =>
      err instanceof FlotillaError && err.code === "FLOTILLA_E_PENALTY_INVALID" && pattern.test(err.message),
  );
}

test("a specific penalty passes, trimmed, with permanent defaulting to false", () => {
  assert.deepEqual(checkPenalty({ ...GOOD, what: `  ${GOOD.what}  ` }, ["coder"]), {
    ...GOOD,
    permanent: false,
  });
  assert.equal(checkPenalty({ ...GOOD, permanent: true }).permanent, true);
});

test("vague entries are refused and the message says why", () => {
  rejects(
    { ...GOOD, change: "be more careful" },
    /--change is too vague: "be more careful" has 3 words, at least 8/,
  );
  rejects({ ...GOOD, what: "made a mistake" }, /--what is too vague: "made a mistake" has 3 words/);
  rejects(
    { ...GOOD, change: "I will be more careful next time and try harder with everything" },
    /--change is too vague: "be more careful" says nothing specific/,
  );
  rejects(
    { ...GOOD, why: "Sorry, my bad, it will not happen again I promise you all" },
    /--why is too vague: "(my bad|sorry|will not happen again)" says nothing specific/,
  );
  rejects({ ...GOOD, why: GOOD.what }, /repeat each other/);
});

test("missing fields and unknown agents are each named", () => {
  rejects({ what: GOOD.what }, /--agent is required.*--why is required.*--change is required/);
  rejects({ ...GOOD, why: "   " }, /--why is required: say why it happened/);
  rejects({ ...GOOD, agent: "nobody" }, /--agent: no agent named "nobody" \(agents: coder\)/, ["coder"]);
  rejects({ ...GOOD, what: 42 }, /--what is required/);
});

test("a long field that mentions a vague phrase next to specifics is accepted", () => {
  assert.equal(
    fieldProblem(
      "I made a mistake: I ran the migration 0042 against production instead of staging and dropped the cache table",
      "what happened",
    ),
    undefined,
  );
  assert.match(fieldProblem("x".repeat(2001), "what") ?? "", /under 2000/);
});
