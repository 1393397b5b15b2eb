/** The constitution, penalty and policy commands with no daemon running: they work on the ledger file, and bad input changes nothing. */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fleetDir, NODE, runCli } from "../support/fleet.ts";

const FLEET = `version: 1
stateDir: ./state
constitution:
  policies:
    - { id: tests, text: "Run the tests before you say done.", scope: [task] }
agents:
  - { name: coder, command: [${JSON.stringify(NODE)}, "-e", "setInterval(() => {}, 1e9)"], workspace: ./ws/coder }
`;

const PENALTY = [
  "--agent",
  "coder",
  "--what",
  "Reported the billing migration as finished while two of its tests were failing",
  "--why",
  "I read the summary line of the test run and not the failures listed above it",
  "--change",
  "I paste the full test summary with the failure count into every done report",
];

function clearError(result: { code: number; stderr: string }, pattern: RegExp): void {
  assert.notEqual(result.code, 0, "must exit non-zero");
  assert.match(result.stderr, pattern);
  assert.equal(result.stderr.trim().split("\n").length, 1, "one line");
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
}

test("init writes a starter constitution; show, amend and history work on the ledger file", async (t) => {
  const { dir, file } = fleetDir(t, "");
  rmSync(file);
  const init = await runCli(["init", "--json", "-c", file]);
  assert.equal(init.code, 0, init.stderr);
  assert.equal(
    (JSON.parse(init.stdout) as { constitution: string }).constitution,
    join(dir, "constitution.md"),
  );
  writeFileSync(file, FLEET);
  const show = await runCli(["constitution", "show", "--json", "-c", file]);
  assert.equal(show.code, 0, show.stderr);
  const shown = JSON.parse(show.stdout) as {
    version: number;
    articles: Array<{ numeral: string; title: string }>;
  };
  assert.equal(shown.version, 1);
  assert.deepEqual(
    shown.articles.map((a) => a.numeral),
    ["I", "II", "III", "IV", "V", "VI"],
  );

  const amend = await runCli([
    "constitution",
    "amend",
    "Quote the test output, not a summary of it.",
    "--article",
    "V",
    "--reason",
    "A summary hid two failures.",
    "--json",
    "-c",
    file,
  ]);
  assert.equal(amend.code, 0, amend.stderr);
  assert.deepEqual(
    (JSON.parse(amend.stdout) as { amendment: { version: number; article: number } }).amendment.version,
    2,
  );
  const text = await runCli(["constitution", "show", "-c", file]);
  assert.match(
    text.stdout,
    /Article V: Proof, or it did not happen\n[\s\S]*Amendment v2 .*: Quote the test output/,
  );

  for (const [args, pattern] of [
    [
      ["Text.", "--article", "IX", "--reason", "r"],
      /^flotilla constitution: amendment not recorded: there is no Article IX \(articles: I, II, III, IV, V, VI\)/,
    ],
    [["Text.", "--article", "2"], /--reason is required/],
    [["--article", "2", "--reason", "r"], /the amendment text is required/],
  ] as const) {
    clearError(await runCli(["constitution", "amend", ...args, "-c", file]), pattern);
  }
  clearError(await runCli(["constitution", "rewrite", "-c", file]), /say show, amend or history/);
  const history = await runCli(["constitution", "history", "--json", "-c", file]);
  const amendments = JSON.parse(history.stdout) as { version: number; amendments: unknown[] };
  assert.equal(amendments.amendments.length, 1, "the refused amendments changed nothing");
  assert.equal(amendments.version, 2);
});

test("penalty add refuses vague and incomplete entries with the reason; list shows what was recorded", async (t) => {
  const { file } = fleetDir(t, FLEET);
  const vague = await runCli([
    "penalty",
    "add",
    "--agent",
    "coder",
    "--what",
    "made a mistake",
    "--why",
    "be more careful",
    "-c",
    file,
  ]);
  clearError(
    vague,
    /penalty not recorded: --what is too vague: "made a mistake" has 3 words.*--why is too vague.*--change is required/,
  );
  clearError(await runCli(["penalty", "add", ...PENALTY.slice(2), "-c", file]), /--agent is required/);
  clearError(
    await runCli(["penalty", "add", ...PENALTY, "--agent", "ghost", "-c", file]),
    /no agent named "ghost"/,
  );
  const json = await runCli(["penalty", "add", ...PENALTY.slice(0, 4), "--json", "-c", file]);
  assert.equal(json.code, 1);
  assert.equal(
    (JSON.parse(json.stderr) as { error: { code: string } }).error.code,
    "FLOTILLA_E_PENALTY_INVALID",
    "--json errors are JSON on stderr",
  );
  const empty = await runCli(["penalty", "list", "--json", "-c", file]);
  assert.deepEqual(
    JSON.parse(empty.stdout),
    { penalties: [], strict: [] },
    "refused penalties wrote nothing",
  );

  const good = await runCli(["penalty", "add", ...PENALTY, "--permanent", "-c", file]);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /recorded penalty #\d+ for coder/);
  const list = await runCli(["penalty", "list", "--agent", "coder", "--json", "-c", file]);
  const { penalties } = JSON.parse(list.stdout) as {
    penalties: Array<{ agent: string; permanent: boolean; source: string; what: string }>;
  };
  assert.deepEqual(
    penalties.map((p) => [p.agent, p.permanent, p.source, p.what]),
    [["coder", true, "operator", PENALTY[3]]],
  );
  clearError(await runCli(["penalty", "list", "--agent", "ghost", "-c", file]), /no agent named "ghost"/);
  clearError(
    await runCli(["penalty", "clear-strict", "../ghost", "-c", file]),
    /no agent named "\.\.\/ghost"/,
  );
  clearError(await runCli(["penalty", "clear-strict", "-c", file]), /name one agent/);
  clearError(await runCli(["penalty", "remove", "-c", file]), /say add, list or clear-strict/);
  const clear = await runCli(["penalty", "clear-strict", "coder", "-c", file]);
  assert.equal(clear.code, 0, clear.stderr);
  assert.match(clear.stdout, /coder was not in strict mode; nothing changed/);
});

test("policy preview prints the exact text; required: true refuses with no constitution", async (t) => {
  const { dir, file } = fleetDir(t, FLEET);
  const preview = await runCli(["policy", "preview", "coder", "Fix the login bug", "-c", file]);
  assert.equal(preview.code, 0, preview.stderr);
  assert.equal(
    preview.stdout,
    "Rules for this task (from Flotilla; the constitution in FLOTILLA.md still overrides them):\n- [tests] Run the tests before you say done.\n\n---\n\nFix the login bug\n",
  );
  const steer = await runCli([
    "policy",
    "preview",
    "coder",
    "Stop now",
    "--scope",
    "steer",
    "--json",
    "-c",
    file,
  ]);
  assert.deepEqual(JSON.parse(steer.stdout), {
    agent: "coder",
    scope: "steer",
    text: "Stop now",
    policies: [],
    proofRequired: false,
  });
  clearError(
    await runCli(["policy", "preview", "coder", "x", "--scope", "deploy", "-c", file]),
    /--scope must be one of task, steer, parallel/,
  );
  clearError(await runCli(["policy", "preview", "coder", "-c", file]), /name an agent and quote the prompt/);
  clearError(await runCli(["policy", "preview", "ghost", "x", "-c", file]), /no agent named "ghost"/);

  writeFileSync(file, FLEET.replace("constitution:\n", "constitution:\n  required: true\n"));
  clearError(
    await runCli(["policy", "preview", "coder", "x", "-c", file]),
    /constitution\.md: missing, and constitution\.required is true, so no work is dispatched/,
  );
  writeFileSync(join(dir, "constitution.md"), "## Article I: Proof first\nShow your work.\n");
  assert.equal((await runCli(["policy", "preview", "coder", "x", "-c", file])).code, 0);
  writeFileSync(file, FLEET.replace("scope: [task] }", "scope: [task], agents: [ghost] }"));
  const invalid = await runCli(["validate", "-c", file]);
  assert.notEqual(invalid.code, 0);
  assert.match(
    invalid.stderr,
    /constitution\.policies\.0\.agents\.0: no agent named "ghost" \(agents: coder\)/,
  );
  assert.ok(readFileSync(join(dir, "constitution.md"), "utf8").includes("Proof first"));
});
