/**
 * The judge through the real gateway in front of the simulator (scripted verdicts): it catches a made-up
 * claim with a verbatim quote, under its own identity; a bad verdict is a counted error, never a pass;
 * nothing new costs nothing; maxTokensPerRun caps a run; an unavailable judge is one quick finding.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { createJudgeCheck, judgeCheck } from "../../src/oversight/checks/judge.ts";
import type { FindingDraft } from "../../src/oversight/finding.ts";
import { freePorts, waitFor } from "../support/fleet.ts";
import { checkContext, judgeRig, verdict } from "../support/oversight.ts";

const PRICING =
  "Pinecone costs $70 per month, Weaviate Cloud $25 per month and Qdrant Cloud $9 per month for our size";

function run(rig: Awaited<ReturnType<typeof judgeRig>>): Promise<FindingDraft[]> {
  return Promise.resolve(
    createJudgeCheck({ gatewayUrl: rig.gw.url }).run(checkContext(rig.config, rig.gw.store)),
  );
}

test("the judge catches made-up pricing data, quoting the transcript, through the gateway under its own identity", async (t) => {
  const rig = await judgeRig(t, {
    script: [
      {
        match: "Pinecone costs",
        reply: verdict({
          check: "unsourced-claim",
          severity: "warning",
          evidence: PRICING,
          suggestion: "Cite the pricing pages or mark the figures as unverified",
          article: "II",
        }),
      },
      { reply: verdict() },
    ],
  });
  rig.append(
    { type: "message", message: { role: "user", content: "Compare the prices of three vector databases." } },
    {
      type: "message",
      message: { role: "assistant", content: [{ type: "text", text: `Done. ${PRICING}.` }] },
    },
  );
  const findings = await run(rig);
  assert.deepEqual(
    findings.map((f) => [f.check, f.agent, f.severity, f.article, f.evidence]),
    [["unsourced-claim", "coordinator", "warning", "II", PRICING]],
  );
  assert.equal(rig.sim.stats().requests, 1);
  const requests = await waitFor(() => {
    const events = rig.gw.store.query({ kind: "gateway.request" });
    return events.length > 0 ? events : undefined;
  }, "the gateway's record of the judge's call");
  assert.deepEqual(
    requests.map((e) => [e.agent, e.data.model]),
    [["oversight", "sim-small"]],
    "accounted to the judge's own identity, on the judge's model",
  );

  // Nothing new: no call. New bytes: one more call, for them only.
  assert.deepEqual(await run(rig), []);
  assert.equal(rig.sim.stats().requests, 1, "an idle transcript costs no call");
  rig.append({ type: "message", message: { role: "assistant", content: "Next I update the memo." } });
  assert.deepEqual(await run(rig), []);
  assert.equal(rig.sim.stats().requests, 2);
});

test("an idle fleet makes no judge call: empty transcript, no transcript, no judge model", async (t) => {
  const rig = await judgeRig(t, {});
  assert.deepEqual(await run(rig), []);
  const blind = { ...rig.config, oversight: { ...rig.config.oversight, transcripts: {} } };
  const notes = await createJudgeCheck({ gatewayUrl: rig.gw.url }).run(checkContext(blind, rig.gw.store));
  assert.deepEqual(
    notes.map((f) => [f.check, f.severity, f.agent, f.key]),
    [["judge", "info", "coordinator", "no-transcript"]],
    "a judge with nothing to read says so",
  );
  const leaderless = { ...rig.config, agents: [] };
  const none = await createJudgeCheck({ gatewayUrl: rig.gw.url }).run(checkContext(leaderless, rig.gw.store));
  assert.deepEqual(
    none.map((f) => f.key),
    ["no-coordinator"],
  );
  assert.deepEqual(
    await judgeCheck.run(
      checkContext({ ...rig.config, oversight: { ...rig.config.oversight, model: undefined } }, rig.gw.store),
    ),
    [],
  );
  assert.equal(rig.sim.stats().requests, 0);
});

for (const [name, reply, expected] of [
  ["an answer that is not JSON", "Looks fine to me, no problems found.", /not JSON/],
  [
    "an answer outside the schema",
    JSON.stringify({ findings: [{ check: "vibes", evidence: "x" }] }),
    /verdict schema/,
  ],
  [
    "a quote the transcript does not hold",
    verdict({
      check: "unsourced-claim",
      severity: "warning",
      evidence: "Pinecone costs $700 per month",
      suggestion: "Cite it",
    }),
    /does not hold/,
  ],
] as const) {
  test(`${name} is a counted judge error, never a pass`, async (t) => {
    const rig = await judgeRig(t, { script: [{ match: "Pinecone", reply }] });
    rig.append({ role: "assistant", content: `${PRICING}.` });
    const findings = await run(rig);
    assert.equal(findings.length, 1, JSON.stringify(findings));
    const [error] = findings;
    assert.equal(error?.check, "judge");
    assert.equal(error?.severity, "warning");
    assert.equal(error?.agent, "coordinator");
    assert.match(error?.evidence ?? "", /judge error \(counted, not a pass\)/);
    assert.match(error?.evidence ?? "", expected);
  });
}

test("maxTokensPerRun caps a run: bounded prompts and max_tokens, the rest waits for the next run", async (t) => {
  const cap = 2_000;
  const rig = await judgeRig(
    t,
    { script: [{ reply: verdict() }] },
    `  maxTokensPerRun: ${cap}\n`,
    `  - { name: lead, role: coordinator, command: x, workspace: /tmp, model: main }\n`,
  );
  // Both coordinators have far more new transcript than the cap allows.
  const line = (i: number) => ({
    role: "assistant",
    content: `step ${i}: ${"all quiet on the build server ".repeat(8)}`,
  });
  rig.append(...Array.from({ length: 400 }, (_, i) => line(i)));
  const config = {
    ...rig.config,
    oversight: {
      ...rig.config.oversight,
      transcripts: { coordinator: rig.transcript, lead: rig.transcript },
    },
  };
  const check = createJudgeCheck({ gatewayUrl: rig.gw.url });
  for (let runs = 1; runs <= 2; runs++) {
    const spent = () => {
      const key = rig.sim.stats().byKey["sim-key"];
      return (key?.promptTokens ?? 0) + (key?.completionTokens ?? 0);
    };
    const before = spent();
    const findings = await check.run(checkContext(config, rig.gw.store));
    const used = spent() - before;
    assert.ok(used <= cap, `run ${runs} spent ${used} tokens, at most ${cap}`);
    assert.ok(used > cap / 2, `run ${runs} used its budget (${used})`);
    const notes = findings.map((f) => `${f.check}/${f.key}/${f.agent}`);
    assert.equal(notes[0], "judge/backlog/coordinator", "the window says the rest waits");
    // What is left after the first window is either judged (its own backlog) or too little for a verdict.
    assert.ok(["judge/backlog/lead", "judge/budget/null"].includes(notes[1] ?? ""), notes.join(", "));
    assert.equal(notes.length, 2);
  }
});

test("a cap too small for one verdict makes no call and says the judge waits", async (t) => {
  const rig = await judgeRig(t, { script: [{ reply: verdict() }] }, "  maxTokensPerRun: 300\n");
  rig.append({ role: "assistant", content: "The memo is written." });
  const findings = await run(rig);
  assert.equal(rig.sim.stats().requests, 0);
  assert.deepEqual(
    findings.map((f) => [f.check, f.key, f.severity]),
    [["judge", "budget", "info"]],
  );
  assert.match(findings[0]?.evidence ?? "", /coordinator wait for the next run/);
});

test("a rate-limited judge is one 'judge unavailable' finding, quickly, and the window is judged on the next run", async (t) => {
  const rig = await judgeRig(
    t,
    {
      keys: { "sim-key": { fault: { kind: "rate_limited", retryAfterMs: 1_500 } } },
      script: [{ reply: verdict() }],
    },
    "  judgeTimeout: 3s\n",
  );
  rig.append({ role: "assistant", content: "The quarterly numbers are in the memo now." });
  const started = Date.now();
  const findings = await run(rig);
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  assert.equal(findings.length, 1, JSON.stringify(findings));
  assert.equal(findings[0]?.check, "judge");
  assert.equal(findings[0]?.severity, "warning");
  assert.match(findings[0]?.evidence ?? "", /^judge unavailable: /);
  rig.sim.setKeyFault("sim-key", undefined);
  await waitFor(async () => (await run(rig)).length === 0, "the judge back, judging the same window", 90_000);
  assert.ok(rig.sim.stats().ok >= 1);
});

test("a dead gateway is 'judge unavailable' at once", async (t) => {
  const rig = await judgeRig(t, {});
  rig.append({ role: "assistant", content: "Pricing memo written." });
  const [port = 0] = await freePorts(1);
  const closed = createServer();
  t.after(() => closed.close());
  const started = Date.now();
  const findings = await createJudgeCheck({ gatewayUrl: `http://127.0.0.1:${port}` }).run(
    checkContext(rig.config, rig.gw.store),
  );
  assert.ok(Date.now() - started < 3_000);
  assert.deepEqual(
    findings.map((f) => [f.check, f.key]),
    [["judge", "unavailable"]],
  );
  assert.match(findings[0]?.evidence ?? "", /cannot be reached/);
});
