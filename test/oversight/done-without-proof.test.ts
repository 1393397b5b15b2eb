/**
 * "Done without proof", by code: a claim of completion with no commit in the agent's workspace since its
 * previous claim (or start), no changed file named and no green CI run is a finding quoting the claim.
 * Real git repositories; the claim pattern tested against false positives.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { validateConfigText } from "../../src/config/load.ts";
import { completionClaims, isCompletionClaim } from "../../src/oversight/checks/completion-claims.ts";
import { createDoneWithoutProofCheck } from "../../src/oversight/checks/done-without-proof.ts";
import { checkContext, scratchDir } from "../support/oversight.ts";

test("the completion pattern: claims, and the look-alikes that are not", () => {
  for (const claim of [
    "Done.",
    "All done!",
    "Everything is done",
    "Task complete.",
    "I've finished the pricing report.",
    "I fixed the login bug",
    "We have shipped version 2.3.",
    "The migration is now complete.",
    "All tests pass.",
    "All 42 tests are passing",
    "Tests are green",
    "It has been deployed to staging and the fix is done",
  ])
    assert.ok(isCompletionClaim(claim), `claim: ${claim}`);
  for (const other of [
    "Is it done?",
    "Let me know when you're done.",
    "This is not done yet",
    "I haven't finished the report",
    "Once the tests pass I will push.",
    "I will ship it tomorrow.",
    "The build isn't fixed",
    "What needs to be done next is the README.",
    "Make sure all tests pass before pushing.",
    "If it is done, close the ticket",
    "The task is almost finished",
    "I need to finish the report",
    "Done reading FLOTILLA.md? Not yet.",
    "I have done nothing so far",
  ])
    assert.ok(!isCompletionClaim(other), `not a claim: ${other}`);
  assert.deepEqual(
    completionClaims(
      "user: Is it done? All tests pass?\nassistant: Working on it. All tests pass.\ntool: done\nI've shipped the fix.",
    ),
    ["All tests pass.", "I've shipped the fix."],
    "only the agent's own lines and plain lines",
  );
});

const HOUR = 3_600_000;

function git(dir: string, args: string[], when?: number): void {
  const date =
    when === undefined
      ? {}
      : {
          GIT_COMMITTER_DATE: `@${Math.floor(when / 1000)} +0000`,
          GIT_AUTHOR_DATE: `@${Math.floor(when / 1000)} +0000`,
        };
  execFileSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
    env: { ...process.env, ...date },
    stdio: "ignore",
  });
}

/** A coder whose workspace is a git repository with one commit made two days ago, started an hour ago. */
function setup(t: TestContext) {
  const dir = scratchDir(t);
  const workspace = join(dir, "ws");
  mkdirSync(workspace);
  git(workspace, ["init", "-q", "-b", "main"]);
  writeFileSync(join(workspace, "README.md"), "old\n");
  git(workspace, ["add", "."]);
  git(workspace, ["commit", "-qm", "old work"], Date.now() - 48 * HOUR);
  const transcript = join(dir, "coder.jsonl");
  writeFileSync(transcript, "");
  const result = validateConfigText(
    `version: 1
stateDir: ${JSON.stringify(join(dir, "state"))}
agents:
  - { name: coder, command: x, workspace: ${JSON.stringify(workspace)} }
oversight: { transcripts: { coder: ${JSON.stringify(transcript)} } }
`,
    join(dir, "flotilla.yaml"),
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const config = result.config;
  const say = (text: string) =>
    appendFileSync(transcript, `${JSON.stringify({ role: "assistant", content: text })}\n`);
  const run = (ciGreen?: () => Promise<boolean>) =>
    createDoneWithoutProofCheck(ciGreen ? { ciGreen } : {}).run(
      checkContext(config, { query: () => [] }, [{ name: "coder", uptimeSec: 3600 }]),
    );
  return { workspace, say, run };
}

test("a claim with no commit, no changed file and no green CI is a finding quoting the claim", async (t) => {
  const { say, run, workspace } = setup(t);
  say("I looked at the numbers. All done, the pricing memo is finished.");
  const findings = await run();
  assert.equal(findings.length, 1, JSON.stringify(findings));
  const [finding] = findings;
  assert.equal(finding?.check, "done-without-proof");
  assert.equal(finding?.agent, "coder");
  assert.equal(finding?.severity, "warning");
  assert.ok(finding?.evidence.startsWith('"All done, the pricing memo is finished."'), finding?.evidence);
  assert.ok(finding?.evidence.includes(workspace));
  assert.deepEqual(await run(), [], "the same claim is not read twice");
});

test("a commit since the agent's start is proof; a later claim needs a commit after the previous claim", async (t) => {
  const { say, run, workspace } = setup(t);
  writeFileSync(join(workspace, "memo.md"), "prices with sources\n");
  git(workspace, ["add", "."]);
  git(workspace, ["commit", "-qm", "pricing memo"]);
  say("Finished: the memo is committed.");
  assert.deepEqual(await run(), []);
  say("I fixed the typo as well.");
  const findings = await run();
  assert.equal(findings.length, 1, "the earlier commit proved the earlier claim only");
  assert.match(findings[0]?.evidence ?? "", /^"I fixed the typo as well\."/);
});

test("a named file that exists and changed is proof; a named file that does not exist is not", async (t) => {
  const { say, run, workspace } = setup(t);
  mkdirSync(join(workspace, "reports"));
  writeFileSync(join(workspace, "reports/pricing.md"), "table\n");
  say("Done: the table is in reports/pricing.md.");
  assert.deepEqual(await run(), []);
  writeFileSync(join(workspace, "reports/old.md"), "last week's table\n");
  const lastWeek = new Date(Date.now() - 7 * 24 * HOUR);
  utimesSync(join(workspace, "reports/old.md"), lastWeek, lastWeek);
  say("Done: the table is in reports/old.md.");
  const stale = await run();
  assert.equal(stale.length, 1, "a named file that did not change since the agent started proves nothing");
  say("Done: the chart is in reports/chart.png.");
  const findings = await run();
  assert.equal(findings.length, 1);
  assert.match(findings[0]?.evidence ?? "", /reports\/chart\.png/);
});

test("a green CI run from the CI lookup is proof", async (t) => {
  const { say, run } = setup(t);
  say("All tests pass.");
  let asked = 0;
  assert.deepEqual(
    await run(async () => {
      asked++;
      return true;
    }),
    [],
  );
  assert.equal(asked, 1);
});

test("a workspace that is not a git repository proves nothing and breaks nothing", async (t) => {
  const { say, run, workspace } = setup(t);
  execFileSync("rm", ["-rf", join(workspace, ".git")]);
  say("Shipped.");
  const findings = await run();
  assert.equal(findings.length, 1);
});
