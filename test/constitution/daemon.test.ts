/**
 * The constitution with a running daemon: the brief is on disk before each start and shows a new penalty
 * at the next one; writes go through the API; an agent's own report (with its key) sets strict mode.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readDaemonInfo } from "../../src/api/daemon-files.ts";
import { STARTER_CONSTITUTION } from "../../src/config/templates.ts";
import { fleetDir, NODE, runCli, status, waitFor } from "../support/fleet.ts";

/** Records, the moment it starts, what it finds in its workspace and env. */
const RECORDER = `const fs = require('fs');
fs.appendFileSync('seen.log', JSON.stringify({
  start: Math.random(),
  brief: fs.existsSync('FLOTILLA.md') ? fs.readFileSync('FLOTILLA.md', 'utf8') : null,
  api: process.env.FLOTILLA_API_URL,
  key: process.env.FLOTILLA_AGENT_KEY,
}) + '\\n');
setInterval(() => {}, 1e9);`;

interface Seen {
  /** Random per start: pids repeat inside a sandbox's own PID namespace. */
  start: number;
  brief: string | null;
  api: string | undefined;
  key: string | undefined;
}

const seen = (dir: string): Seen[] =>
  existsSync(join(dir, "ws/coder/seen.log"))
    ? readFileSync(join(dir, "ws/coder/seen.log"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Seen)
    : [];

const PENALTY = {
  what: "Marked the invoice export task done without attaching the export file it produced",
  why: "The export ran in a temp folder that was deleted before I wrote the report",
  change: "Write exports into the workspace and attach the file path to the done report",
};

/** A stand-in named like OpenClaw's entry point (relative to the agents' workspaces), so they count as OpenClaw. */
const CLAW = "../../bin/openclaw.mjs";

test("the brief is written before every start, carries new penalties and strict mode, and OpenClaw gets its AGENTS.md block", async (t) => {
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - name: coder
    command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(RECORDER)}]
    workspace: ./ws/coder
    restart: { delay: 100ms }
  - name: claw
    command: [${JSON.stringify(NODE)}, "${CLAW}"]
    workspace: ./ws/claw
  - name: tangled
    command: [${JSON.stringify(NODE)}, "${CLAW}"]
    workspace: ./ws/tangled
`,
  );
  writeFileSync(join(dir, "constitution.md"), STARTER_CONSTITUTION);
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin/openclaw.mjs"), "setInterval(() => {}, 1e9);\n");
  mkdirSync(join(dir, "ws/claw"), { recursive: true });
  const ownAgentsMd = "# Claw\n\nHouse rules the operator wrote.\n";
  writeFileSync(join(dir, "ws/claw/AGENTS.md"), ownAgentsMd);

  mkdirSync(join(dir, "ws/tangled"), { recursive: true });
  const tangled = "<!-- flotilla:end --> markers in the wrong order <!-- flotilla:begin -->\n";
  writeFileSync(join(dir, "ws/tangled/AGENTS.md"), tangled);
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  const [first] = await waitFor(() => seen(dir).length === 1 && seen(dir), "the first start");
  assert.ok(first?.brief, "FLOTILLA.md was on disk when the process started");
  assert.match(first.brief, /### Article I: Quality comes before speed/);
  assert.match(first.brief, /## Your penalties \(newest first\)\n\nNone recorded\./);
  const api = readDaemonInfo(join(dir, "state"))?.api;
  assert.equal(first.api, api, "the agent is told where the control API is");
  assert.match(first.brief, new RegExp(`POST ${api}/v1/violations`));
  const claw = readFileSync(join(dir, "ws/claw/AGENTS.md"), "utf8");
  assert.ok(claw.startsWith(ownAgentsMd), "the operator's AGENTS.md text is untouched");
  assert.match(
    claw.slice(ownAgentsMd.length),
    /^\n<!-- flotilla:begin -->\n[\s\S]*FLOTILLA\.md[\s\S]*<!-- flotilla:end -->\n$/,
  );
  assert.ok(existsSync(join(dir, "ws/claw/FLOTILLA.md")));
  // Broken markers: the file is left alone, the failure recorded, and the agent starts anyway.
  const tangledRow = await waitFor(
    async () =>
      (await status(file)).find((a) => a.name === "tangled" && a.state === "running" && a.uptimeSec),
    "the agent with broken markers running",
  );
  assert.equal((await status(file)).find((a) => a.name === "claw")?.restarts, 0);
  assert.ok(tangledRow.pid);
  assert.equal(readFileSync(join(dir, "ws/tangled/AGENTS.md"), "utf8"), tangled);
  const token = readFileSync(join(dir, "state/token"), "utf8").trim();
  const failed = (await (
    await fetch(`${api}/v1/events?agent=tangled&kind=brief.`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as { events: Array<{ kind: string; data: { error?: string } }> };
  assert.equal(failed.events[0]?.kind, "brief.failed");
  assert.match(failed.events[0]?.data.error ?? "", /AGENTS\.md: the .* markers are broken/);

  // An operator's penalty and amendment, through the daemon (the ledger's one writer).
  const add = await runCli([
    "penalty",
    "add",
    "--agent",
    "coder",
    "--what",
    PENALTY.what,
    "--why",
    PENALTY.why,
    "--change",
    PENALTY.change,
    "--permanent",
    "-c",
    file,
  ]);
  assert.equal(add.code, 0, add.stderr);
  await waitFor(
    () => readFileSync(join(dir, "state/daemon.log"), "utf8").includes("penalty.recorded"),
    "the daemon (the ledger's one writer) to record the penalty",
  );
  const refused = await runCli([
    "constitution",
    "amend",
    "x",
    "--article",
    "12",
    "--reason",
    "r",
    "-c",
    file,
  ]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^flotilla constitution: amendment not recorded: there is no Article 12/);
  const amend = await runCli([
    "constitution",
    "amend",
    "Attach the artefact itself.",
    "--article",
    "5",
    "--reason",
    "An export was lost.",
    "-c",
    file,
  ]);
  assert.equal(amend.code, 0, amend.stderr);
  assert.equal((await runCli(["restart", "coder", "-c", file])).code, 0);
  const second = await waitFor(() => seen(dir)[1], "the second start");
  assert.notEqual(second.start, first.start);
  assert.match(second.brief ?? "", /## Permanent prohibitions\n\n- Write exports into the workspace/);
  assert.match(second.brief ?? "", /- What happened: Marked the invoice export task done/);
  assert.match(second.brief ?? "", /> Amendment \(v2, .*\): Attach the artefact itself\./);

  // The agent reports its own violation with its key: a penalty, and strict mode.
  const key = first.key ?? "";
  const keyCli = await runCli(["key", "coder", "-c", file]);
  assert.equal(keyCli.stdout.trim(), key, "the injected key is the agent's virtual key");
  const report = (auth: string, body: unknown) =>
    fetch(`${api}/v1/violations`, {
      method: "POST",
      headers: { authorization: `Bearer ${auth}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  assert.equal((await report(token, PENALTY)).status, 401, "the operator token is not an agent's key");
  assert.equal((await report(`${key}x`, PENALTY)).status, 401);
  const vague = await report(key, { what: "oops", why: "be more careful", change: "do better" });
  assert.equal(vague.status, 400);
  assert.match(((await vague.json()) as { error: { message: string } }).error.message, /--what is too vague/);
  assert.equal((await status(file)).find((a) => a.name === "coder")?.strict, false);
  const ok = await report(key, { ...PENALTY, what: `Again: ${PENALTY.what}` });
  assert.equal(ok.status, 201);
  assert.deepEqual(
    ((await ok.json()) as { strict: boolean; penalty: { source: string } }).penalty.source,
    "self",
  );
  const rows = await status(file);
  assert.equal(rows.find((a) => a.name === "coder")?.strict, true);
  assert.equal(rows.find((a) => a.name === "claw")?.strict, false);
  const table = await runCli(["status", "-c", file]);
  assert.match(table.stdout, /coder\s+running STRICT/);

  assert.equal((await runCli(["restart", "coder", "-c", file])).code, 0);
  const third = await waitFor(() => seen(dir)[2], "the third start");
  assert.match(third.brief ?? "", /## Strict mode\n\nYou are in strict mode since/);
  assert.match(third.brief ?? "", /### #\d+, .* \(self-reported\)\n\n- What happened: Again: Marked/);
  const preview = await runCli(["policy", "preview", "coder", "Ship it", "--json", "-c", file]);
  assert.equal((JSON.parse(preview.stdout) as { proofRequired: boolean }).proofRequired, true);

  const clear = await runCli(["penalty", "clear-strict", "coder", "--json", "-c", file]);
  assert.deepEqual(JSON.parse(clear.stdout), { agent: "coder", cleared: true, strict: false });
  assert.equal((await status(file)).find((a) => a.name === "coder")?.strict, false);
  const events = await runCli(["penalty", "list", "--json", "-c", file]);
  assert.equal((JSON.parse(events.stdout) as { penalties: unknown[] }).penalties.length, 2);
});

test("an agent added by config apply gets its brief and can report its own violation", async (t) => {
  const sleeper = (name: string) =>
    `  - { name: ${name}, command: [${JSON.stringify(NODE)}, "-e", "setInterval(() => {}, 1e9)"], workspace: ./ws/${name} }\n`;
  const base = "version: 1\nstateDir: ./state\nagents:\n";
  const { dir, file } = fleetDir(t, `${base}${sleeper("first")}`);
  writeFileSync(join(dir, "constitution.md"), STARTER_CONSTITUTION);
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  await waitFor(
    async () => (await status(file)).find((a) => a.name === "first" && a.state === "running"),
    "first",
  );
  const proposed = join(dir, "proposed.yaml");
  writeFileSync(proposed, `${base}${sleeper("first")}${sleeper("second")}`);
  const apply = await runCli(["config", "apply", proposed, "--yes", "-c", file]);
  assert.equal(apply.code, 0, apply.stderr);
  await waitFor(
    async () => (await status(file)).find((a) => a.name === "second" && a.state === "running"),
    "second",
  );
  assert.match(readFileSync(join(dir, "ws/second/FLOTILLA.md"), "utf8"), /^# Flotilla brief for second/);
  const key = (await runCli(["key", "second", "-c", file])).stdout.trim();
  const api = readDaemonInfo(join(dir, "state"))?.api;
  const res = await fetch(`${api}/v1/violations`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(PENALTY),
  });
  assert.equal(res.status, 201);
  assert.equal((await status(file)).find((a) => a.name === "second")?.strict, true);
});
