/** The constitution over a real ledger file: amendments, penalties, strict mode, incidents, the brief and the dispatch gate. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { lastWritten } from "../../src/config/managed-files.ts";
import type { AgentConfig, AgentKind, FlotillaConfig } from "../../src/config/schema.ts";
import { createConstitution } from "../../src/constitution/service.ts";
import { FlotillaError } from "../../src/errors.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import type { Store } from "../../src/ledger/store.ts";

const ARTICLES =
  "## Article I: Quality over speed\nDo it right.\n\n## Article II: Research first\nLook it up.\n";

const penalty = (n: number) => ({
  what: `Penalty number ${n}: claimed the report for task ${n} was sent but never sent it`,
  why: `The mail command for task ${n} failed and its exit code was not checked at all`,
  change: `Check the exit code of the mail command for task ${n} before saying it was sent`,
});

function setUp(
  t: TestContext,
  options: { policies?: FlotillaConfig["constitution"]["policies"]; required?: boolean } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-constitution-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "constitution.md"), ARTICLES);
  const agent = (name: string, command: AgentConfig["command"] = ["node", "agent.js"], kind?: AgentKind) =>
    ({ name, command, workspace: join(dir, "ws", name), ...(kind ? { kind } : {}) }) as AgentConfig;
  const config = {
    stateDir: join(dir, "state"),
    agents: [
      agent("coder"),
      agent("claw", ["node", "/opt/openclaw/openclaw.mjs", "gateway", "run"]),
      agent("claude", "claude --print", "claude-code"),
      agent("codex", "codex exec", "codex"),
      agent("plain", ["node", "/opt/openclaw/openclaw.mjs"], "process"),
    ],
    constitution: {
      articles: join(dir, "constitution.md"),
      required: options.required ?? false,
      penaltyCap: 3,
      policies: options.policies ?? [],
    },
  };
  const store: Store = openSqliteStore(join(dir, "state", "ledger.db"));
  t.after(() => store.close());
  return { dir, config, store, constitution: createConstitution({ config: () => config, store }) };
}

function fails(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (err) => err instanceof FlotillaError && err.code === code && pattern.test(err.message));
}

test("amendments are versioned ledger events; one to a missing article is refused and writes nothing", (t) => {
  const { store, constitution } = setUp(t);
  const first = constitution.amend({
    article: "II",
    text: "Cite the file and line.",
    reason: "Claims without sources.",
  });
  const second = constitution.amend({
    article: 1,
    text: "No shortcuts.",
    reason: "A rushed deploy broke prod.",
  });
  assert.deepEqual([first.version, first.article, second.version, second.article], [2, 2, 3, 1]);
  const before = store.query({ limit: 1000 }).length;
  fails(
    () => constitution.amend({ article: "IX", text: "x", reason: "y" }),
    "FLOTILLA_E_AMENDMENT_INVALID",
    /there is no Article IX \(articles: I, II\)/,
  );
  fails(
    () => constitution.amend({ article: 1, text: " ", reason: "" }),
    "FLOTILLA_E_AMENDMENT_INVALID",
    /text is required; --reason is required/,
  );
  fails(
    () => constitution.amend({ text: "x", reason: "y" }),
    "FLOTILLA_E_AMENDMENT_INVALID",
    /--article is required/,
  );
  assert.equal(store.query({ limit: 1000 }).length, before, "a refused amendment writes nothing");
  assert.deepEqual(
    constitution.amendments().map((a) => a.text),
    ["Cite the file and line.", "No shortcuts."],
  );
});

test("penalties: operator and self-reported; a self-report sets strict mode until an operator clears it", (t) => {
  const { store, constitution } = setUp(t);
  const operator = constitution.addPenalty({ agent: "coder", ...penalty(1) });
  assert.equal(operator.source, "operator");
  assert.equal(
    constitution.strictModes().has("coder"),
    false,
    "an operator's penalty does not set strict mode",
  );
  const self = constitution.reportViolation("coder", penalty(2));
  assert.equal(self.source, "self");
  assert.deepEqual(constitution.strictModes().get("coder")?.penaltyId, self.id);
  const before = store.query({ limit: 1000 }).length;
  fails(
    () => constitution.addPenalty({ agent: "coder", what: "oops" }),
    "FLOTILLA_E_PENALTY_INVALID",
    /--what is too vague/,
  );
  fails(
    () => constitution.reportViolation("ghost", penalty(3)),
    "FLOTILLA_E_PENALTY_INVALID",
    /no agent named "ghost"/,
  );
  assert.equal(store.query({ limit: 1000 }).length, before, "a refused penalty writes nothing");
  assert.deepEqual(
    constitution.penalties("coder").map((p) => p.id),
    [self.id, operator.id],
    "newest first",
  );
  assert.equal(constitution.clearStrict("coder"), true);
  assert.equal(constitution.clearStrict("coder"), false, "clearing twice changes nothing");
  assert.equal(constitution.strictModes().size, 0);
  fails(() => constitution.clearStrict("ghost"), "FLOTILLA_E_UNKNOWN_AGENT", /no agent named "ghost"/);
});

test("the brief holds articles with amendments, prohibitions, capped penalties newest first, strict mode and open incidents", (t) => {
  const { dir, config, store, constitution } = setUp(t);
  constitution.amend({ article: 2, text: "Cite the file and line.", reason: "Claims without sources." });
  constitution.addPenalty({ agent: "coder", ...penalty(1), permanent: true });
  for (const n of [2, 3, 4]) constitution.addPenalty({ agent: "coder", ...penalty(n) });
  constitution.reportViolation("coder", penalty(5));
  constitution.addPenalty({ agent: "claw", ...penalty(9) });
  store.append({
    kind: "incident.opened",
    agent: "coder",
    data: { id: "inc-1", title: "gateway 5xx storm" },
  });
  store.append({ kind: "incident.opened", data: { id: "inc-2", title: "disk almost full" } });
  store.append({ kind: "incident.resolved", data: { id: "inc-2" } });
  store.append({ kind: "incident.opened", agent: "claw", data: { id: "inc-3", title: "not mine" } });
  const { path } = constitution.writeBrief("coder", "http://127.0.0.1:4000");
  const brief = readFileSync(path, "utf8");
  assert.equal(path, join(dir, "ws", "coder", "FLOTILLA.md"));
  assert.equal(lastWritten(config.stateDir, path), brief, "written as a managed file");
  assert.match(brief, /### Article I: Quality over speed\n\nDo it right\./);
  assert.match(
    brief,
    /### Article II: Research first\n\nLook it up\.\n\n> Amendment \(v2, .*\): Cite the file and line\.\n> Reason: Claims without sources\./,
  );
  assert.match(brief, /## Permanent prohibitions\n\n- Check the exit code of the mail command for task 1 /);
  const shown = [...brief.matchAll(/Penalty number (\d)/g)].map((m) => m[1]);
  assert.deepEqual(shown, ["5", "4", "3"], "newest three (the cap), and no other agent's");
  assert.match(brief, /2 older penalties are not shown/);
  assert.match(brief, /self-reported/);
  assert.match(brief, /## Strict mode\n\nYou are in strict mode since/);
  assert.match(brief, /- inc-1: gateway 5xx storm/);
  assert.doesNotMatch(brief, /inc-2|inc-3/, "resolved and other agents' incidents are left out");
  assert.match(brief, /No HANDOFF\.md yet/);
  assert.match(brief, /POST http:\/\/127\.0\.0\.1:4000\/v1\/violations/);
  writeFileSync(join(dir, "ws", "coder", "HANDOFF.md"), "left off at step 3");
  assert.match(
    readFileSync(constitution.writeBrief("coder").path, "utf8"),
    /Read HANDOFF\.md in this workspace/,
  );

  writeFileSync(config.constitution.articles, "## Article I: A\n## Article III: C\n");
  const broken = constitution.writeBrief("coder");
  assert.match(broken.warning ?? "", /constitution\.md:2: "Article III" is out of order/);
  const notice = readFileSync(path, "utf8");
  assert.match(notice, /The constitution file could not be read: .*out of order/);
  assert.match(notice, /Penalty number 5/, "the rest of the brief is still there");
});

test("an OpenClaw workspace gets the managed block in AGENTS.md; the rest of the file stays byte for byte", (t) => {
  const { dir, constitution } = setUp(t);
  const agentsFile = join(dir, "ws", "claw", "AGENTS.md");
  constitution.writeBrief("claw");
  assert.match(
    readFileSync(agentsFile, "utf8"),
    /^<!-- flotilla:begin -->\n.*FLOTILLA\.md[\s\S]*<!-- flotilla:end -->\n$/,
  );
  const own = "# My agent\r\n\r\nKeep this exactly. Trailing spaces   \nno newline at end";
  writeFileSync(agentsFile, own);
  constitution.writeBrief("claw");
  const once = readFileSync(agentsFile, "utf8");
  assert.ok(once.startsWith(own), "the operator's text is kept as it was");
  constitution.writeBrief("claw");
  assert.equal(readFileSync(agentsFile, "utf8"), once, "a second start leaves the file as it is");
  const edited = once
    .replace(/FLOTILLA\.md in this workspace/, "something else")
    .concat("\nafter the block\n");
  writeFileSync(agentsFile, edited);
  constitution.writeBrief("claw");
  assert.equal(
    readFileSync(agentsFile, "utf8"),
    `${once}\nafter the block\n`,
    "the block is restored, the text after it kept",
  );
  writeFileSync(agentsFile, "<!-- flotilla:end --> broken <!-- flotilla:begin -->");
  fails(() => constitution.writeBrief("claw"), "FLOTILLA_E_STATE", /AGENTS\.md: the .* markers are broken/);
  constitution.writeBrief("coder");
  assert.throws(
    () => readFileSync(join(dir, "ws", "coder", "AGENTS.md")),
    /ENOENT/,
    "not an OpenClaw agent: no AGENTS.md",
  );
});

test("the agent's kind picks the instructions file: CLAUDE.md for claude-code, AGENTS.md for codex, none for process", (t) => {
  const { dir, constitution } = setUp(t);
  const files = (name: string) =>
    ["AGENTS.md", "CLAUDE.md"].filter((file) => existsSync(join(dir, "ws", name, file)));
  for (const name of ["claude", "codex", "plain"]) constitution.writeBrief(name);
  assert.deepEqual(files("claude"), ["CLAUDE.md"]);
  assert.match(readFileSync(join(dir, "ws", "claude", "CLAUDE.md"), "utf8"), /read FLOTILLA\.md/);
  assert.deepEqual(files("codex"), ["AGENTS.md"]);
  assert.deepEqual(files("plain"), [], "kind: process wins over a command that looks like OpenClaw");
  const own = "# Project rules\n\nUse tabs.\n";
  writeFileSync(join(dir, "ws", "claude", "CLAUDE.md"), own);
  constitution.writeBrief("claude");
  const kept = readFileSync(join(dir, "ws", "claude", "CLAUDE.md"), "utf8");
  assert.ok(
    kept.startsWith(own) && kept.includes("<!-- flotilla:begin -->"),
    "the block is added after the operator's text",
  );
});

test("policies are added by scope and agent; strict mode asks for proof; required blocks without articles", (t) => {
  const { config, constitution } = setUp(t, {
    policies: [
      { id: "tests", text: "Run the tests.", scope: ["task", "parallel"] },
      { text: "Answer in English.", scope: ["steer"], agents: ["claw"] },
      { id: "coder-only", text: "Keep diffs small.", scope: ["task"], agents: ["coder"] },
    ],
  });
  const task = constitution.planDispatch("coder", "task", "Fix bug 12");
  assert.equal(
    task.text,
    "Rules for this task (from Flotilla; the constitution in FLOTILLA.md still overrides them):\n- [tests] Run the tests.\n- [coder-only] Keep diffs small.\n\n---\n\nFix bug 12",
  );
  assert.deepEqual([task.policies, task.proofRequired], [["tests", "coder-only"], false]);
  assert.equal(
    constitution.planDispatch("coder", "steer", "Stop").text,
    "Stop",
    "nothing applies: the prompt unchanged",
  );
  assert.deepEqual(constitution.planDispatch("claw", "steer", "Stop").policies, ["policy-2"]);
  constitution.reportViolation("coder", penalty(1));
  const strict = constitution.planDispatch("coder", "steer", "Stop");
  assert.equal(strict.proofRequired, true);
  assert.match(strict.text, /^You are in strict mode: finish with proof/);
  fails(() => constitution.planDispatch("ghost", "task", "x"), "FLOTILLA_E_UNKNOWN_AGENT", /ghost/);

  const required = setUp(t, { required: true });
  assert.equal(required.constitution.planDispatch("coder", "task", "x").text, "x");
  writeFileSync(required.config.constitution.articles, "# Only a preamble\n");
  fails(
    () => required.constitution.planDispatch("coder", "task", "x"),
    "FLOTILLA_E_CONSTITUTION_REQUIRED",
    /has no articles, and constitution\.required is true/,
  );
  rmSync(required.config.constitution.articles);
  fails(
    () => required.constitution.planDispatch("coder", "task", "x"),
    "FLOTILLA_E_CONSTITUTION_REQUIRED",
    /missing, and constitution\.required/,
  );
  assert.ok(config.constitution.articles.endsWith("constitution.md"));
});

test("the coordinator's brief lists every open incident of the fleet and those resolved in the last day", (t) => {
  const { config, store, constitution } = setUp(t);
  config.agents.push({
    ...config.agents[0],
    name: "boss",
    role: "coordinator",
    workspace: join(config.stateDir, "..", "ws", "boss"),
  } as AgentConfig);
  store.append({ kind: "incident.opened", agent: "coder", data: { id: "inc-a", title: "agent:coder down" } });
  store.append({ kind: "incident.opened", data: { id: "inc-b", title: "daemon down" } });
  store.append({ kind: "incident.resolved", data: { id: "inc-b", outcome: "recovered" } });
  store.append({ kind: "incident.opened", agent: "claw", data: { id: "inc-c", title: "agent:claw down" } });
  const boss = readFileSync(constitution.writeBrief("boss").path, "utf8");
  assert.match(boss, /## Open incidents\n\n- inc-a: agent:coder down[^\n]*\n\n- inc-c: agent:claw down/);
  assert.match(boss, /## Incidents resolved in the last day\n\n- inc-b: daemon down: recovered /);
  const coder = readFileSync(constitution.writeBrief("coder").path, "utf8");
  assert.match(coder, /- inc-a: agent:coder down/);
  assert.doesNotMatch(
    coder,
    /inc-b|inc-c|resolved in the last day/,
    "a specialist sees its own open incidents only",
  );
});
