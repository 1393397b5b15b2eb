/**
 * Issue 16's acceptance: one real fleet started with the real CLI carries each incident the issue names
 * (a push without green CI, a 30-file reformat, 93 noise commits, a hand edit of a managed file, a stale
 * HANDOFF.md, "done" without proof, a tool-call loop through the gateway, a made-up claim), and ONE
 * `flotilla oversight run` catches every one with the right check and evidence quoting the incident.
 * Thresholds stay at their defaults (noise 10 commits, format 20 files, repeated requests 20): each
 * incident is bigger than its threshold.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fleetDir, freePorts, NODE, runCli, simulatedGateway, waitFor } from "../support/fleet.ts";
import { bareRepo, cloneOf, commit, gitIn, sourceFiles, workTree } from "../support/git-repos.ts";
import { toolCallLoop, verdict } from "../support/oversight.ts";
import type { StoredFinding } from "../../src/oversight/findings-store.ts";

const HOUR = 3_600_000;
const IDLE = `[${JSON.stringify(NODE)}, "-e", "setInterval(() => {}, 1e9)"]`;
const PRICING =
  "Pinecone costs $70 per month, Weaviate Cloud $25 per month and Qdrant Cloud $9 per month for our size";
const CLAIM = "All done, the vector database comparison is finished.";

async function json<T>(file: string, args: string[]): Promise<T> {
  const result = await runCli([...args, "--json", "-c", file]);
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

test("one oversight run of one real fleet catches all eight incidents of issue 16, each with its evidence", async (t) => {
  const [gatewayPort = 0, simPort = 0] = await freePorts(2);
  const now = Date.now();
  const { dir, file } = fleetDir(t, "");

  // Push without green CI: the CI command fails on a commit that carries a file named FAIL.
  const ciRemote = bareRepo(join(dir, "repos/app.git"));
  const ciClone = cloneOf(ciRemote, join(dir, "repos/app-clone"));
  const good = commit(ciClone, { "a.txt": "one\n" }, "Add the first module", now - 2 * HOUR);
  const broken = commit(ciClone, { FAIL: "x\n" }, "Add the importer without running the tests", now - HOUR);
  gitIn(ciClone, ["push", "--quiet", "origin", "main"]);

  // 30 files reformatted in one commit.
  const formatRemote = bareRepo(join(dir, "repos/format.git"));
  const formatClone = cloneOf(formatRemote, join(dir, "repos/format-clone"));
  commit(formatClone, sourceFiles(30, "  "), "Add thirty modules", now - 2 * HOUR);
  const reformat = commit(formatClone, sourceFiles(30, "    "), "Tidy up the code", now - HOUR);
  gitIn(formatClone, ["push", "--quiet", "origin", "main"]);

  // 93 near-identical "improvement" commits within the hour.
  const noiseRemote = bareRepo(join(dir, "repos/noise.git"));
  const noiseClone = cloneOf(noiseRemote, join(dir, "repos/noise-clone"));
  const noise: string[] = [];
  for (let i = 1; i <= 93; i++)
    noise.push(
      commit(
        noiseClone,
        { "perf.txt": `tweak ${i}\n` },
        `Improve performance of the parser (pass ${i})`,
        now - 40 * 60_000 + i * 20_000,
      ),
    );
  gitIn(noiseClone, ["push", "--quiet", "origin", "main"]);

  // A work tree whose HANDOFF.md is two days older than its latest commit.
  const stale = workTree(join(dir, "repos/parser"));
  commit(
    stale,
    {
      "HANDOFF.md":
        "# Handoff\n\nBuilt the tokenizer in src/tokenizer.js; the parser is next. Watch the Unicode cases.\n",
    },
    "Tokenizer and handoff",
    now - 48 * HOUR,
  );
  const lastStale = commit(stale, { "src/parser.js": "export {}\n" }, "Add the parser", now - HOUR);

  // The coordinator's transcript: a claim of completion with nothing after it, and made-up pricing.
  const transcript = join(dir, "coordinator.jsonl");
  appendFileSync(transcript, "");
  mkdirSync(join(dir, "ws/coordinator"), { recursive: true });
  mkdirSync(join(dir, "ws/coder"), { recursive: true });

  const ciCommand = JSON.stringify([NODE, "-e", `process.exit(require("fs").existsSync("FAIL") ? 1 : 0)`]);
  // The judge answers through the fleet's own simulator: a verdict quoting the pricing, else nothing.
  const script = [
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
  ];
  const yaml = `version: 1
stateDir: ./state
drift: { every: 200ms }
oversight:
  every: 1h
  model: judge
  transcripts: { coordinator: ${JSON.stringify(transcript)} }
${simulatedGateway(gatewayPort, simPort, "SIM_KEY", { script, models: { judge: "sim-large" } })}agents:
  - { name: coordinator, role: coordinator, model: main, command: ${IDLE}, workspace: ./ws/coordinator }
  - { name: coder, model: main, command: ${IDLE}, workspace: ./ws/coder }
repos:
  - { path: ./repos/app.git, ci: { kind: command, command: ${ciCommand} } }
  - { path: ./repos/format.git }
  - { path: ./repos/noise.git }
  - { path: ./repos/parser }
`;
  appendFileSync(file, yaml);

  const up = await runCli(["up", "--detach", "-c", file], { env: { ...process.env, SIM_KEY: "sim-key" } });
  assert.equal(up.code, 0, up.stderr);
  await waitFor(
    async () => {
      const rows = (await json<{ agents: Array<{ state: string }> }>(file, ["status"])).agents;
      return rows.length > 0 && rows.every((r) => r.state === "running");
    },
    "the fleet running",
    30_000,
  );

  // A hand edit of the managed config file, seen by the drift watch.
  appendFileSync(file, "# tuned by hand\n");
  const drift = await waitFor(async () => {
    const { events } = await json<{ events: Array<{ id: number }> }>(file, [
      "events",
      "--kind",
      "config.drift",
    ]);
    return events[0];
  }, "the drift event");

  // The coder stuck on one tool call: the same last message 25 times through the real gateway.
  const coderKey = (await runCli(["key", "show", "coder", "-c", file])).stdout.trim();
  await toolCallLoop(gatewayPort, coderKey, 25);
  const requests = await waitFor(async () => {
    const { events } = await json<{ events: Array<{ id: number; agent: string }> }>(file, [
      "events",
      "--kind",
      "gateway.request",
      "-n",
      "100",
    ]);
    const coder = events.filter((e) => e.agent === "coder");
    return coder.length >= 25 ? coder : undefined;
  }, "the coder's 25 gateway.request events");

  // The coordinator says it is done (no commit, no file, no CI after) and makes up prices.
  appendFileSync(
    transcript,
    [
      {
        type: "message",
        message: { role: "user", content: "Compare the prices of three vector databases." },
      },
      {
        type: "message",
        message: { role: "assistant", content: [{ type: "text", text: `${CLAIM} ${PRICING}.` }] },
      },
    ]
      .map((line) => `${JSON.stringify(line)}\n`)
      .join(""),
  );

  const started = Date.now();
  const result = await json<{ run: { outcome: string }; findings: StoredFinding[] }>(file, [
    "oversight",
    "run",
  ]);
  t.diagnostic(`the oversight run took ${Date.now() - started} ms`);
  const all = JSON.stringify(result.findings, null, 1);
  assert.equal(result.run.outcome, "ok", all);
  const find = (check: string, evidence: RegExp | string, agent?: string | null) => {
    const found = result.findings.find(
      (f) =>
        f.check === check &&
        (agent === undefined || f.agent === agent) &&
        (typeof evidence === "string" ? f.evidence.includes(evidence) : evidence.test(f.evidence)),
    );
    assert.ok(found, `a ${check} finding with ${String(evidence)} in: ${all}`);
    return found;
  };
  const short = (sha: string) => sha.slice(0, 10);

  // 1. Push without green CI: the failing commit by hash and subject; the good one passes.
  const push = find(
    "push-without-ci",
    `${short(broken)} "Add the importer without running the tests" on main`,
  );
  assert.equal(push.severity, "critical");
  assert.match(push.evidence, /CI is failure: .* exited 1$/, "the command and its exit, no repeated noise");
  assert.ok(
    !result.findings.some((f) => f.check === "push-without-ci" && f.evidence.includes(short(good))),
    "the green commit is not a finding",
  );
  // 2. The 30-file reformat.
  find(
    "mass-format",
    new RegExp(
      `commit ${short(reformat)} "Tidy up the code" .* changes 30 of 30 files in whitespace or layout only`,
    ),
  );
  // 3. The 93 noise commits, once, from the first to the last.
  const noiseFindings = result.findings.filter((f) => f.check === "commit-noise");
  assert.equal(noiseFindings.length, 1, all);
  assert.match(
    noiseFindings[0]?.evidence ?? "",
    new RegExp(
      `^93 near-identical small commits on .*noise\\.git .* from ${short(noise[0] ?? "")} "Improve performance of the parser \\(pass 1\\)" to ${short(noise[92] ?? "")} "Improve performance of the parser \\(pass 93\\)"`,
    ),
  );
  // 4. The hand edit, by its ledger event.
  const edit = find("config-drift", `ledger event #${drift.id} config.drift`);
  assert.match(edit.evidence, /flotilla\.yaml was edited by hand/);
  assert.match(edit.evidence, /tuned by hand/);
  // 5. The stale HANDOFF.md, against the commit that came after it.
  find(
    "handoff",
    new RegExp(`HANDOFF\\.md was last updated .*, before commit ${short(lastStale)} "Add the parser"`),
  );
  // 6. Done without proof, quoting the claim.
  const done = find("done-without-proof", JSON.stringify(CLAIM), "coordinator");
  assert.match(
    done.evidence,
    /no commit in .*ws\/coordinator since .*, no changed file named, no green CI run/,
  );
  // 7. The tool-call loop through the gateway, from the first to the last of its ledger events.
  const loopFinding = find("runaway", /^2[5-9] requests by coder with the same last message/, "coder");
  assert.equal(loopFinding.severity, "critical");
  const ids = requests.map((e) => e.id);
  assert.match(
    loopFinding.evidence,
    new RegExp(`from ledger event #${Math.min(...ids)} to #${Math.max(...ids)} \\(gateway\\.request\\)`),
  );
  // 8. The made-up pricing, by the judge, quoted verbatim.
  const judged = find("unsourced-claim", PRICING, "coordinator");
  assert.equal(judged.evidence, PRICING);
  assert.equal(judged.article, "II");
  assert.ok(!result.findings.some((f) => f.check === "judge"), all);
});
