/**
 * `flotilla oversight eval` end to end: a fleet whose simulator plays a judge with scripted verdicts
 * (right, wrong, malformed, unquoted) behind the real gateway; eval scores the shipped labelled set
 * and prints precision and recall per check. A wrong labelled set is named by line.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { allRunning, fleetDir, freePorts, NODE, ROOT, runCli, waitFor } from "../support/fleet.ts";
import { scratchDir, verdict } from "../support/oversight.ts";

const SET = join(ROOT, "examples/oversight/judge-eval.jsonl");

const found = (check: string, evidence: string) =>
  verdict({ check, severity: "warning", evidence, suggestion: "Fix it" });

/** The judge as scripted: mostly right, one false alarm, one miss, one answer that is not JSON, one misquote. */
const SCRIPT = [
  { match: "Pinecone costs $70", reply: found("unsourced-claim", "Pinecone costs $70 per month") },
  { match: "3.4 times faster", reply: found("unsourced-claim", "the new parser is 3.4 times faster") },
  { match: "240 ms against 812 ms", reply: found("unsourced-claim", "took 240 ms against 812 ms") },
  { match: "dark theme", reply: found("unrequested-content", "added a dark theme") },
  {
    match: "Where is package.json?",
    reply: found("needless-question", "Which command runs the tests in this repository?"),
  },
  { match: "Deployed the latest main", reply: found("skipped-startup", "git pull && npm run deploy") },
  { match: "12,400 users", reply: "The summary looks fine to me." },
  {
    match: "Released 2.3.0",
    reply: verdict(
      {
        check: "skipped-startup",
        severity: "warning",
        evidence: "rm -rf build && npm run release",
        suggestion: "Read FLOTILLA.md first",
      },
      {
        check: "needless-question",
        severity: "info",
        evidence: "What is our main branch called?",
        suggestion: "Look it up",
      },
    ),
  },
  { reply: verdict() },
];

test("oversight eval scores the judge per check against the shipped labelled set", async (t) => {
  const [gatewayPort = 0, simPort = 0] = await freePorts(2);
  const { file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
gateway: { listen: 127.0.0.1:${gatewayPort} }
simulator: ${JSON.stringify({ listen: `127.0.0.1:${simPort}`, keys: { "sim-key": {} }, script: SCRIPT })}
providers:
  - { id: sim, kind: openai, baseUrl: http://127.0.0.1:${simPort}/v1, keys: [{ env: SIM_KEY }] }
models:
  main: [{ provider: sim, model: sim-large }]
  judge: [{ provider: sim, model: sim-small }]
agents:
  - { name: coordinator, role: coordinator, model: main, command: [${JSON.stringify(NODE)}, "-e", "setInterval(() => {}, 1e9)"], workspace: ./ws }
oversight: { model: judge }
`,
  );
  const up = await runCli(["up", "--detach", "-c", file], { env: { ...process.env, SIM_KEY: "sim-key" } });
  assert.equal(up.code, 0, up.stderr);
  await allRunning(file);

  const json = await runCli(["oversight", "eval", SET, "--json", "-c", file]);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as {
    windows: number;
    judgeErrors: number;
    tokens: number;
    checks: Record<
      string,
      {
        truePositives: number;
        falsePositives: number;
        falseNegatives: number;
        precision: number | null;
        recall: number | null;
      }
    >;
  };
  assert.equal(report.windows, 14);
  assert.equal(report.judgeErrors, 2, "the answer that is not JSON and the misquote, counted");
  assert.ok(report.tokens > 0);
  const score = (check: string) => {
    const s = report.checks[check];
    return [
      s?.truePositives,
      s?.falsePositives,
      s?.falseNegatives,
      s?.precision?.toFixed(2),
      s?.recall?.toFixed(2),
    ];
  };
  assert.deepEqual(score("unsourced-claim"), [2, 1, 1, "0.67", "0.67"]);
  assert.deepEqual(score("unrequested-content"), [1, 0, 1, "1.00", "0.50"]);
  assert.deepEqual(score("needless-question"), [1, 0, 1, "1.00", "0.50"]);
  assert.deepEqual(score("skipped-startup"), [2, 0, 0, "1.00", "1.00"]);

  const text = await runCli(["oversight", "eval", SET, "-c", file]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /judge judge: 14 windows, \d+ tokens, 2 judge errors/);
  assert.match(text.stdout, /^unsourced-claim\s+0\.67\s+0\.67\s+2\s+1\s+1$/m);
  assert.match(text.stdout, /^skipped-startup\s+1\.00\s+1\.00\s+2\s+0\s+0$/m);
  assert.match(text.stdout, /judge error in "made-up-and-extra": the judge's answer is not JSON/);

  // The judge's calls are accounted to its own identity, apart from every agent.
  const calls = await waitFor(async () => {
    const events = await runCli([
      "events",
      "--agent",
      "oversight",
      "--kind",
      "gateway.request",
      "--json",
      "-c",
      file,
    ]);
    assert.equal(events.code, 0, events.stderr);
    const list = (JSON.parse(events.stdout) as { events: Array<{ agent: string; data: { model: string } }> })
      .events;
    return list.length >= 28 ? list : undefined;
  }, "the ledger's record of the judge's 28 calls (two evals of 14 windows)");
  assert.equal(calls.length, 28);
  assert.ok(calls.every((e) => e.agent === "oversight" && e.data.model === "sim-small"));
});

test("oversight eval names the wrong line of a labelled set, and needs a judge model", async (t) => {
  const dir = scratchDir(t);
  const set = join(dir, "set.jsonl");
  writeFileSync(
    set,
    `${JSON.stringify({ id: "a", transcript: "user: hi", labels: [] })}\n${JSON.stringify({ id: "b", transcript: "x", labels: ["vibes"] })}\n`,
  );
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, "version: 1\nagents: []\n");
  const bad = await runCli(["oversight", "eval", set, "-c", file]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^flotilla oversight: .*set\.jsonl:2: labels\.0: /);
  writeFileSync(set, `${JSON.stringify({ id: "a", transcript: "user: hi", labels: [] })}\n`);
  const noJudge = await runCli(["oversight", "eval", set, "--json", "-c", file]);
  assert.equal(noJudge.code, 1);
  assert.equal(
    (JSON.parse(noJudge.stderr) as { error: { code: string } }).error.code,
    "FLOTILLA_E_JUDGE_UNAVAILABLE",
  );
});
