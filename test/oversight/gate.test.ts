/**
 * The code gate end to end: a real daemon started by the CLI, a bare remote on disk, a clone with the
 * installed hooks, real `git push` runs as the fleet's agent (its own key) and as the operator, a real
 * gateway answering on a fallback tier through the simulator.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import { createRepoChecks } from "../../src/oversight/checks/index.ts";
import { fleetDir, freePorts, NODE, runCli, simulatedGateway, waitFor } from "../support/fleet.ts";
import { bareRepo, cloneOf, commit, gitEnv, gitIn, sourceFiles } from "../support/git-repos.ts";
import { fakeGithub } from "../support/github-api.ts";

interface Row {
  id: number;
  kind: string;
  agent: string | null;
  data: Record<string, unknown>;
}

const RECORD_ENV = `require('fs').writeFileSync('agent-env.json', JSON.stringify({ key: process.env.FLOTILLA_AGENT_KEY, api: process.env.FLOTILLA_API_URL })); setInterval(() => {}, 1e9);`;
const exitIfFile = (name: string) =>
  JSON.stringify([NODE, "-e", `process.exit(require("fs").existsSync(${JSON.stringify(name)}) ? 1 : 0)`]);

/** `git push` with the hooks; its exit code and what the hooks printed (async: the test's own servers must answer meanwhile). */
function push(
  cwd: string,
  env: NodeJS.ProcessEnv,
  ...extra: string[]
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "git",
      ["push", ...extra, "origin", "main"],
      { cwd, env: gitEnv(env), encoding: "utf8", timeout: 120_000 },
      (err, _stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stderr }),
    );
  });
}

test("the gate refuses each bad push with its reason, lets a clean one through, fails closed, and records what oversight needs", async (t) => {
  const [gatewayPort = 0, simPort = 0, closedPort = 0] = await freePorts(3);
  const gateway = simulatedGateway(gatewayPort, simPort).replace(
    "model: sim-small }",
    "model: sim-small, tier: fallback }",
  );
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
${gateway}agents:
  - { name: coder, command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(RECORD_ENV)}], workspace: ./ws/coder, model: main }
repos:
  - path: ./remote.git
    branches: [main]
    ci: { kind: command, command: ${exitIfFile("FAIL")} }
    test: ${exitIfFile("TESTFAIL")}
    gate: { maxFiles: 40 }
`,
  );
  const remote = bareRepo(join(dir, "remote.git"));
  const clone = cloneOf(remote, join(dir, "clone"));
  const env = { ...process.env, SIM_KEY: "sim-key" };
  const up = await runCli(["up", "--detach", "-c", file], { env });
  assert.equal(up.code, 0, up.stderr);
  const recorded = join(dir, "ws/coder/agent-env.json");
  const agentEnv = await waitFor(
    () =>
      existsSync(recorded) && (JSON.parse(readFileSync(recorded, "utf8")) as { key: string; api: string }),
    "the agent's env",
  );
  const asAgent = { FLOTILLA_AGENT_KEY: agentEnv.key, FLOTILLA_API_URL: agentEnv.api };
  const remoteMain = () => gitIn(remote, ["rev-parse", "--verify", "--quiet", "main"]).trim();
  const events = async (kind: string): Promise<Row[]> => {
    const result = await runCli(["events", "--json", "--kind", kind, "-n", "1000", "-c", file]);
    assert.equal(result.code, 0, result.stderr);
    return (JSON.parse(result.stdout) as { events: Row[] }).events;
  };

  // Install: both hooks, idempotent; a foreign hook is kept unless forced.
  const installed = await runCli(["gate", "install", clone, "--json", "-c", file]);
  assert.equal(installed.code, 0, installed.stderr);
  assert.deepEqual(
    (JSON.parse(installed.stdout) as { hooks: Array<{ action: string }> }).hooks.map((h) => h.action),
    ["installed", "installed"],
  );
  assert.equal((JSON.parse(installed.stdout) as { recorded: boolean }).recorded, true);
  const again = await runCli(["gate", "install", clone, "--json", "-c", file]);
  assert.deepEqual(
    (JSON.parse(again.stdout) as { hooks: Array<{ action: string }> }).hooks.map((h) => h.action),
    ["unchanged", "unchanged"],
  );
  const other = cloneOf(remote, join(dir, "other"));
  writeFileSync(join(other, ".git/hooks/pre-push"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const foreign = await runCli(["gate", "install", other, "-c", file]);
  assert.equal(foreign.code, 2);
  assert.match(foreign.stderr, /pre-push already exist.*not Flotilla's.*--force/);
  const forced = await runCli(["gate", "install", other, "--force", "--json", "-c", file]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(
    readFileSync(join(other, ".git/hooks/pre-push.before-flotilla"), "utf8"),
    "#!/bin/sh\nexit 0\n",
  );

  // The gate's routes need a key or the token; a record is always the key owner's.
  const records = `${agentEnv.api}/v1/gate/records`;
  const body = JSON.stringify({
    kind: "passed",
    remote,
    shas: ["b".repeat(40)],
    ref: "refs/heads/main",
    agent: "someone-else",
  });
  const anonymous = await fetch(records, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  assert.equal(anonymous.status, 401);
  const forged = await fetch(records, {
    method: "POST",
    headers: { authorization: `Bearer ${agentEnv.key}`, "content-type": "application/json" },
    body,
  });
  assert.equal(forged.status, 200);
  const claimed = (await events("gate.passed")).find((e) =>
    (e.data.shas as string[]).includes("b".repeat(40)),
  );
  assert.equal(claimed?.agent, "coder");
  assert.equal(claimed?.data.by, "coder");

  // A clean push as the agent goes through and is recorded for its commit.
  const clean = commit(
    clone,
    { ...sourceFiles(30, "  "), "src/parser.js": "export const parse = (s) => s.split(' ');\n" },
    "Add the parser and thirty modules",
  );
  const passed = await push(clone, asAgent);
  assert.equal(passed.code, 0, passed.stderr);
  assert.match(passed.stderr, /flotilla gate: push passes \(1 commits recorded\)/);
  assert.equal(remoteMain(), clean);
  const passes = await events("gate.passed");
  assert.ok(
    passes.some(
      (e) => e.agent === "coder" && (e.data.shas as string[]).includes(clean) && e.data.repo === remote,
    ),
  );

  // Each push the gate should refuse is refused with one reason and how to comply; the remote is untouched.
  const refused = async (rule: string, reason: RegExp) => {
    const result = await push(clone, asAgent);
    assert.notEqual(result.code, 0, `${rule}: the push went through`);
    assert.match(result.stderr, new RegExp(`push refused \\(${rule}\\): `));
    assert.match(result.stderr, reason);
    assert.match(result.stderr, /to comply: /);
    assert.equal(remoteMain(), clean, `${rule}: the remote moved`);
    gitIn(clone, ["reset", "--quiet", "--hard", clean]);
  };
  commit(clone, { FAIL: "1\n" }, "Add the importer");
  await refused("ci", /CI for [0-9a-f]{10}, pushed to the protected branch main, is failure: .* exited 1/);
  commit(clone, { TESTFAIL: "1\n" }, "Add the exporter");
  const standalone = await runCli(["gate", "check", clone, "--json", "-c", file]);
  assert.equal(standalone.code, 1);
  assert.equal((JSON.parse(standalone.stdout) as { refusal: { rule: string } }).refusal.rule, "tests");
  await refused("tests", /the repository's test command .* fails on the pushed commit: exit 1/);
  commit(clone, sourceFiles(30, "    "), "Tidy up");
  await refused("mass-format", /30 files change in whitespace or layout only \(limit 20\)/);
  for (let i = 1; i <= 12; i++)
    commit(clone, { "notes.txt": `pass ${i}\n` }, `Improve the notes (pass ${i})`);
  await refused("noise", /12 near-identical small commits \(limit 10\)/);
  const many: Record<string, string> = {};
  for (let i = 0; i < 45; i++) many[`data/file-${i}.txt`] = `${i}\n`;
  commit(clone, many, "Add the fixtures");
  await refused("max-files", /touches 45 files, over the limit of 40/);

  // A commit after fallback output gets the trailer, is refused without review, and passes with it.
  const chat = await fetch(`http://127.0.0.1:${gatewayPort}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${agentEnv.key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "main", messages: [{ role: "user", content: "write the lexer" }] }),
  });
  assert.equal(chat.status, 200, await chat.text());
  await waitFor(
    async () =>
      (await events("gateway.request")).some((e) => e.agent === "coder" && e.data.tier === "fallback"),
    "the fallback answer in the ledger",
  );
  writeFileSync(join(clone, "src/lexer.js"), "export const lex = (s) => [...s];\n");
  gitIn(clone, ["add", "-A"]);
  gitIn(clone, ["commit", "--quiet", "-m", "Add the lexer"], asAgent);
  assert.match(gitIn(clone, ["log", "-1", "--format=%B"]), /^Flotilla-Tier: fallback$/m);
  await refused(
    "unreviewed-fallback",
    /"Add the lexer" was written on a fallback model .* no Reviewed-by: trailer/,
  );
  writeFileSync(join(clone, "src/lexer.js"), "export const lex = (s) => [...s];\n");
  gitIn(clone, ["add", "-A"]);
  gitIn(
    clone,
    ["commit", "--quiet", "-m", "Add the lexer", "--trailer", "Reviewed-by: Operator <op@example.test>"],
    asAgent,
  );
  const message = gitIn(clone, ["log", "-1", "--format=%B"]);
  assert.equal(message.match(/Flotilla-Tier: fallback/g)?.length, 1);
  const reviewed = await push(clone, asAgent);
  assert.equal(reviewed.code, 0, reviewed.stderr);
  const lexer = remoteMain();

  // --emergency lets a refused push through and is recorded with its reason and what it overrode.
  const hotfix = commit(clone, { FAIL: "1\n" }, "Hotfix the importer");
  const emergency = await push(clone, { ...asAgent, FLOTILLA_GATE_EMERGENCY: "production is down" });
  assert.equal(emergency.code, 0, emergency.stderr);
  assert.match(
    emergency.stderr,
    /EMERGENCY push let through and recorded as a violation \("production is down"\)/,
  );
  const [override] = await events("gate.emergency");
  assert.equal(override?.agent, "coder");
  assert.equal(override?.data.reason, "production is down");
  assert.deepEqual(override?.data.shas, [hotfix]);
  assert.equal(override?.data.refusal, "none by the content rules; CI and the tests were not run");

  // Fail closed: a daemon that cannot be reached, and a hook that crashes, refuse the push.
  commit(clone, { "src/util.js": "export {}\n" }, "Add util");
  const unreachable = await push(clone, {
    FLOTILLA_AGENT_KEY: agentEnv.key,
    FLOTILLA_API_URL: `http://127.0.0.1:${closedPort}`,
  });
  assert.notEqual(unreachable.code, 0);
  assert.match(
    unreachable.stderr,
    /refused: the gate could not decide \(the daemon did not answer at http:\/\/127\.0\.0\.1:\d+\)/,
  );
  const hookFile = join(clone, ".git/hooks/pre-push");
  const hookText = readFileSync(hookFile, "utf8");
  writeFileSync(hookFile, hookText.replace(/bin\/flotilla\.js/, "bin/flotilla-moved.js"));
  const crashed = await push(clone, asAgent);
  assert.notEqual(crashed.code, 0, "a hook that crashes refuses");
  assert.equal(remoteMain(), hotfix);
  const reinstalled = await runCli(["gate", "install", clone, "--json", "-c", file]);
  assert.equal(
    (JSON.parse(reinstalled.stdout) as { hooks: Array<{ action: string }> }).hooks[0]?.action,
    "updated",
  );

  // --no-verify skips the hooks; the next run of the push check flags the commit (and the emergency).
  const skipped = gitIn(clone, ["rev-parse", "HEAD"]).trim();
  assert.equal((await push(clone, asAgent, "--no-verify")).code, 0);
  assert.equal(remoteMain(), skipped);
  const { config } = loadConfig(file);
  const store = openSqliteStore(join(config.stateDir, "ledger.db"));
  t.after(() => store.close());
  const [pushCheck] = createRepoChecks({ stateDir: config.stateDir, secrets: {} });
  const findings =
    (await pushCheck?.run({
      config,
      ledger: store,
      sinceId: 0,
      lastRunAt: null,
      now: Date.now(),
      status: () => [],
    })) ?? [];
  const noGate = findings.filter((f) => f.key.startsWith("no-gate:"));
  assert.deepEqual(
    noGate.map((f) => f.key),
    [`no-gate:${skipped}`],
    JSON.stringify(findings, null, 1),
  );
  assert.match(noGate[0]?.evidence ?? "", /"Add util" on main .* has no gate record: .*--no-verify/);
  const emergencyFinding = findings.find((f) => f.key === `emergency:${override?.id}`);
  assert.equal(emergencyFinding?.agent, "coder");
  assert.match(emergencyFinding?.evidence ?? "", /--emergency "production is down"/);
  assert.ok(findings.some((f) => f.key === `ci:${hotfix}` && f.severity === "critical"));
  assert.ok(!findings.some((f) => f.key === `ci:${lexer}` || f.key === `ci:${clean}`));
});

test("with CI on GitHub, the daemon asks the API with its token, and a push to a protected branch waits for green", async (t) => {
  const github = await fakeGithub(t, "acme/widgets");
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents: []
repos:
  - path: ./remote.git
    branches: [main]
    ci: { kind: github, repo: acme/widgets, apiUrl: "${github.url}", token: { env: GATE_GH_TOKEN } }
`,
  );
  const remote = bareRepo(join(dir, "remote.git"));
  const clone = cloneOf(remote, join(dir, "clone"));
  const up = await runCli(["up", "--detach", "-c", file], {
    env: { ...process.env, GATE_GH_TOKEN: "ghp_gatetoken" },
  });
  assert.equal(up.code, 0, up.stderr);
  assert.equal((await runCli(["gate", "install", clone, "-c", file])).code, 0);
  const sha = commit(clone, { "a.txt": "1\n" }, "Add a");
  // Pushed by the operator (no agent key in the environment): GitHub has no record of the commit yet.
  const missing = await push(clone, {});
  assert.notEqual(missing.code, 0);
  assert.match(
    missing.stderr,
    /push refused \(ci\): CI for [0-9a-f]{10}, pushed to the protected branch main, is missing: GitHub acme\/widgets has no status or check run/,
  );
  // A feature branch is not protected: it goes through without asking GitHub.
  const asked = github.auth.length;
  const feature = await new Promise<number>((resolve) =>
    execFile("git", ["push", "origin", "main:feature"], { cwd: clone, env: gitEnv() }, (err) =>
      resolve(err ? 1 : 0),
    ),
  );
  assert.equal(feature, 0);
  assert.equal(github.auth.length, asked);
  github.commits.set(sha, { checkRuns: [{ name: "test", status: "in_progress", conclusion: null }] });
  assert.match((await push(clone, {})).stderr, /is pending: check run test: in_progress/);
  github.commits.set(sha, { checkRuns: [{ name: "test", status: "completed", conclusion: "success" }] });
  const green = await push(clone, {});
  assert.equal(green.code, 0, green.stderr);
  assert.equal(gitIn(remote, ["rev-parse", "main"]).trim(), sha);
  assert.ok(github.auth.every((header) => header === "Bearer ghp_gatetoken"));
});
