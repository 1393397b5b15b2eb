/**
 * The repository checks over real git repositories (bare remotes on disk, clones, commits at chosen
 * times), a CI command, a loopback server in GitHub's API format and a real ledger file: one run of
 * the checks catches each incident with the right check and evidence.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import type { CheckContext } from "../../src/oversight/check.ts";
import { createRepoChecks } from "../../src/oversight/checks/index.ts";
import type { FindingDraft } from "../../src/oversight/finding.ts";
import { FLEETS_DIR, freePorts, NODE } from "../support/fleet.ts";
import { bareRepo, cloneOf, commit, gitIn, sourceFiles, workTree } from "../support/git-repos.ts";
import { fakeGithub } from "../support/github-api.ts";

const HOUR = 3_600_000;

async function runAll(context: CheckContext, secrets: Record<string, string>): Promise<FindingDraft[]> {
  const findings: FindingDraft[] = [];
  for (const check of createRepoChecks({ stateDir: context.config.stateDir, secrets }))
    findings.push(...(await check.run(context)));
  return findings;
}

test("one run of the repository checks catches each incident with its evidence", async (t) => {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-repo-checks-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const now = Date.now();
  const github = await fakeGithub(t, "acme/widgets");
  const [closedPort] = await freePorts(1);

  // Push without green CI, by a CI command that fails when the commit carries a file named FAIL.
  const ciLog = join(dir, "ci-runs.log");
  const ciRemote = bareRepo(join(dir, "ci.git"));
  const ciClone = cloneOf(ciRemote, join(dir, "ci-clone"));
  const good = commit(ciClone, { "a.txt": "one\n" }, "Add the first module");
  const broken = commit(ciClone, { FAIL: "x\n" }, "Add the importer without running the tests");
  gitIn(ciClone, ["push", "--quiet", "origin", "main"]);

  // CI on GitHub: green, failed, never reported (older than the grace), pending (recent and old).
  const ghRemote = bareRepo(join(dir, "gh.git"));
  const ghClone = cloneOf(ghRemote, join(dir, "gh-clone"));
  const green = commit(ghClone, { "g.txt": "1\n" }, "Green commit", now - 3 * HOUR);
  const red = commit(ghClone, { "g.txt": "2\n" }, "Red commit", now - 3 * HOUR + 1000);
  const unreported = commit(ghClone, { "g.txt": "3\n" }, "Commit nobody tested", now - 2 * HOUR);
  const oldPending = commit(ghClone, { "g.txt": "4\n" }, "Commit stuck in the queue", now - HOUR);
  const newPending = commit(ghClone, { "g.txt": "5\n" }, "Commit just pushed", now - 60_000);
  gitIn(ghClone, ["push", "--quiet", "origin", "main"]);
  github.commits.set(green, {
    statuses: [{ state: "success", context: "ci/build" }],
    checkRuns: [{ name: "test", status: "completed", conclusion: "success" }],
  });
  github.commits.set(red, {
    statuses: [{ state: "success", context: "ci/build" }],
    checkRuns: [{ name: "test", status: "completed", conclusion: "failure" }],
  });
  github.commits.set(oldPending, { checkRuns: [{ name: "test", status: "queued", conclusion: null }] });
  github.commits.set(newPending, { statuses: [{ state: "pending", context: "ci/build" }] });

  // A 30-file reformat, and 93 near-identical "improvement" commits.
  const formatRemote = bareRepo(join(dir, "format.git"));
  const formatClone = cloneOf(formatRemote, join(dir, "format-clone"));
  commit(formatClone, sourceFiles(30, "  "), "Add thirty modules", now - 2 * HOUR);
  const reformat = commit(formatClone, sourceFiles(30, "    "), "Tidy up the code", now - HOUR);
  gitIn(formatClone, ["push", "--quiet", "origin", "main"]);
  const noiseRemote = bareRepo(join(dir, "noise.git"));
  const noiseClone = cloneOf(noiseRemote, join(dir, "noise-clone"));
  for (let i = 1; i <= 93; i++)
    commit(
      noiseClone,
      { "perf.txt": `tweak ${i}\n` },
      `Improve performance of the parser (pass ${i})`,
      now - 40 * 60_000 + i * 20_000,
    );
  gitIn(noiseClone, ["push", "--quiet", "origin", "main"]);

  // HANDOFF.md: stale in one work tree, a stub in another, current in a third.
  const stale = workTree(join(dir, "stale"));
  commit(
    stale,
    {
      "HANDOFF.md": `# Handoff\n\nBuilt the tokenizer in src/tokenizer.js; the parser is next. Watch the Unicode cases.\n`,
    },
    "Tokenizer and handoff",
    now - 48 * HOUR,
  );
  const lastStale = commit(stale, { "src/parser.js": "export {}\n" }, "Add the parser", now - HOUR);
  const stub = workTree(join(dir, "stub"));
  commit(stub, { "HANDOFF.md": "# HANDOFF\n\nTODO\n", "x.js": "1\n" }, "Start", now - HOUR);
  const current = workTree(join(dir, "current"));
  commit(current, { "src/lexer.js": "export {}\n" }, "Add the lexer", now - 2 * HOUR);
  commit(
    current,
    {
      "HANDOFF.md":
        "# Handoff\n\nAdd the lexer: src/lexer.js is done and tested by hand; next comes the parser, which needs the token table.\n",
    },
    "Write the handoff",
    now - HOUR,
  );

  // An agent's workspace that is a git work tree, with no HANDOFF.md at all.
  const workspace = workTree(join(dir, "ws-coder"));
  commit(workspace, { "notes.md": "scratch\n" }, "Scratch notes", now - HOUR);
  mkdirSync(join(dir, "plain-folder"));
  const ciCommand = JSON.stringify([
    NODE,
    "-e",
    `require("fs").appendFileSync(${JSON.stringify(ciLog)}, process.cwd() + "\\n"); process.exit(require("fs").existsSync("FAIL") ? 1 : 0)`,
  ]);
  const file = join(dir, "flotilla.yaml");
  writeFileSync(
    file,
    `version: 1
stateDir: ./state
agents:
  - { name: coder, command: ["${NODE}", "-e", "0"], workspace: ./ws-coder }
  - { name: plain, command: ["${NODE}", "-e", "0"], workspace: ./plain-folder }
repos:
  - { path: ./ci.git, ci: { kind: command, command: ${ciCommand} } }
  - { path: ./gh.git, ci: { kind: github, repo: acme/widgets, apiUrl: "${github.url}", token: { env: GH_TOKEN } } }
  - { path: ./gh.git, branches: [main], ci: { kind: github, repo: acme/widgets, apiUrl: "http://127.0.0.1:${closedPort}" } }
  - { path: ./format.git }
  - { path: ./noise.git }
  - { path: ./stale }
  - { path: ./stub }
  - { path: ./current }
  - { path: ./missing }
  - { path: ./plain-folder }
`,
  );
  const { config } = loadConfig(file);
  mkdirSync(config.stateDir, { recursive: true });
  const store = openSqliteStore(join(config.stateDir, "ledger.db"));
  t.after(() => store.close());
  const context: CheckContext = { config, ledger: store, sinceId: 0, lastRunAt: null, now, status: () => [] };
  const secrets = { GH_TOKEN: "ghp_testtoken123" };

  const findings = await runAll(context, secrets);
  const of = (check: string, key: string) => findings.find((f) => f.check === check && f.key === key);
  const about = (check: string, text: string) =>
    findings.filter((f) => f.check === check && f.evidence.includes(text));

  // push-without-ci: the failing command run; the good commit is not a finding.
  const failed = of("push-without-ci", `ci:${broken}`);
  assert.ok(failed, JSON.stringify(findings, null, 1));
  assert.equal(failed.severity, "critical");
  assert.match(
    failed.evidence,
    new RegExp(`${broken.slice(0, 10)} "Add the importer without running the tests" on main`),
  );
  assert.equal(of("push-without-ci", `ci:${good}`), undefined);
  // GitHub: red and the never-reported and stuck-pending ones past the grace; green and the fresh pending one not.
  assert.match(of("push-without-ci", `ci:${red}`)?.evidence ?? "", /CI is failure: check run test: failure/);
  assert.match(
    of("push-without-ci", `ci:${unreported}`)?.evidence ?? "",
    /"Commit nobody tested" .* has no CI record/,
  );
  assert.match(
    of("push-without-ci", `ci:${oldPending}`)?.evidence ?? "",
    /CI is pending: check run test: queued/,
  );
  assert.equal(of("push-without-ci", `ci:${green}`), undefined);
  assert.equal(of("push-without-ci", `ci:${newPending}`), undefined);
  assert.ok(github.auth.includes("Bearer ghp_testtoken123"), "the token is sent to the API");
  // An unreachable CI source, a missing path and a folder that is not git are findings, not crashes.
  assert.match(
    of("push-without-ci", "ci-error:" + join(dir, "gh.git"))?.evidence ?? "",
    /could not be asked.*cannot connect/,
  );
  assert.match(
    of("push-without-ci", "repo:" + join(dir, "missing"))?.evidence ?? "",
    /repos\.8\.path: .*missing does not exist/,
  );
  assert.match(
    of("push-without-ci", "repo:" + join(dir, "plain-folder"))?.evidence ?? "",
    /is not a git repository|is inside the repository/,
  );
  assert.ok(of("push-without-ci", "no-ci:" + join(dir, "format.git")));

  // mass-format: the 30-file reformat, quoted by hash and subject.
  const format = of("mass-format", `format:${reformat}`);
  assert.match(
    format?.evidence ?? "",
    new RegExp(
      `${reformat.slice(0, 10)} "Tidy up the code" .* changes 30 of 30 files in whitespace or layout only`,
    ),
  );
  assert.equal(about("mass-format", "Add thirty modules").length, 0);
  // commit-noise: the 93 commits, once.
  const noise = findings.filter((f) => f.check === "commit-noise");
  assert.equal(noise.length, 1, JSON.stringify(noise));
  assert.match(
    noise[0]?.evidence ?? "",
    /^93 near-identical small commits .*"Improve performance of the parser \(pass 1\)".*\(pass 93\)"/,
  );
  // handoff: stale and stub found; the current one passes.
  assert.match(
    of("handoff", `handoff:${stale}`)?.evidence ?? "",
    new RegExp(`before commit ${lastStale.slice(0, 10)} "Add the parser".*no finished-task events`),
  );
  assert.match(of("handoff", `handoff:${stub}`)?.evidence ?? "", /is a stub/);
  assert.equal(of("handoff", `handoff:${current}`), undefined);
  const missing = of("handoff", `handoff:${workspace}`);
  assert.equal(missing?.agent, "coder");
  assert.match(missing?.evidence ?? "", /coder's workspace .* has no HANDOFF\.md/);
  assert.equal(
    findings.filter((f) => f.check === "handoff").length,
    3,
    "a workspace that is not git is not checked",
  );
  // Secrets stay out of findings.
  assert.ok(!JSON.stringify(findings).includes("ghp_testtoken123"));

  // The CI command ran once per commit, and a second run asks no more (results are cached in the state dir).
  const runsAfterFirst = readFileSync(ciLog, "utf8").trim().split("\n");
  assert.equal(runsAfterFirst.length, 2);
  assert.ok(readdirSync(join(config.stateDir, "oversight", "ci")).length >= 2);
  const again = await runAll({ ...context, lastRunAt: now, sinceId: 0, now: now + 1000 }, secrets);
  assert.ok(again.some((f) => f.key === `ci:${broken}`));
  assert.equal(readFileSync(ciLog, "utf8").trim().split("\n").length, 2);
});
