/** Every bad input gets one clear line on stderr, a non-zero exit, nothing started and nothing running disturbed. */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { findByEnv } from "../../src/supervisor/process-tree.ts";
import { instanceId } from "../../src/supervisor/supervisor.ts";
import { EXAMPLE_AGENT, fleetDir, freePorts, NODE, runCli, status, waitFor } from "../support/fleet.ts";

const agent = (
  name: string,
  port: number,
  command = `[${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}]`,
  workspace = `./ws/${name}`,
) =>
  `  - { name: ${name}, port: ${port}, workspace: ${JSON.stringify(workspace)}, command: ${command}, health: { http: /health, interval: 200ms } }`;

function assertOneClearError(result: { code: number; stderr: string }, pattern: RegExp): void {
  assert.notEqual(result.code, 0, "must exit non-zero");
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
}

function nothingStarted(dir: string): void {
  assert.deepEqual(
    findByEnv({ FLOTILLA_INSTANCE: instanceId(join(dir, "state")) }),
    [],
    "no agent process was started",
  );
}

test("a missing config names the path and how to make one", async () => {
  const result = await runCli(["status", "-c", "/nonexistent/flotilla.yaml"]);
  assertOneClearError(
    result,
    /^flotilla status: \/nonexistent\/flotilla\.yaml: no config file \(from --config\); run "flotilla init"/,
  );
  assert.equal(result.stderr.trim().split("\n").length, 1);
});

test("an invalid config is rejected by validate and by up, naming file, line and field", async (t) => {
  const { dir, file } = fleetDir(
    t,
    "version: 1\nstateDir: ./state\nagents:\n  - { name: a, command: run, workspace: w, stopTimeout: 10 }\n",
  );
  const validate = await runCli(["validate", "-c", file]);
  assertOneClearError(validate, new RegExp(`^${file}:4: agents\\.0\\.stopTimeout: `));
  const json = await runCli(["validate", "--json", "-c", file]);
  assert.equal(json.code, 1);
  assert.equal((JSON.parse(json.stdout) as { problems: unknown[] }).problems.length, 1);
  const up = await runCli(["up", "--detach", "-c", file]);
  assertOneClearError(up, /agents\.0\.stopTimeout/);
  nothingStarted(dir);
});

test("duplicate names and ports are caught before anything starts", async (t) => {
  const [port = 0] = await freePorts(1);
  const { dir, file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n${agent("a", port)}\n${agent("a", port)}\n`,
  );
  const up = await runCli(["up", "--detach", "-c", file]);
  assertOneClearError(up, /duplicate agent name "a"/);
  assert.match(up.stderr, /port \d+ is also used by agents\.0/);
  nothingStarted(dir);
});

test("a YAML alias bomb is one line naming the file, not a stack trace", async (t) => {
  const rows = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
  for (const [from, to] of [
    ["a", "b"],
    ["b", "c"],
    ["c", "d"],
    ["d", "e"],
    ["e", "f"],
  ])
    rows.push(`${to}: &${to} [${Array.from({ length: 9 }, () => `*${from}`).join(", ")}]`);
  const { file } = fleetDir(t, `${rows.join("\n")}\n`);
  const validate = await runCli(["validate", "-c", file]);
  assertOneClearError(validate, new RegExp(`^${file}:1: \\(yaml\\): cannot be read as YAML \\(`));
  assert.equal(validate.stderr.trim().split("\n").length, 1);
  const up = await runCli(["up", "--detach", "-c", file]);
  assertOneClearError(up, /cannot be read as YAML/);
  assert.equal(up.stderr.trim().split("\n").length, 1);
});

test("validate reports a structural problem and a duplicate port in one pass", async (t) => {
  const { file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - { name: a, command: run, workspace: w, port: 4100 }
  - { name: b, command: run, workspace: w, port: 4100, restart: 5 }
`,
  );
  const validate = await runCli(["validate", "-c", file]);
  assertOneClearError(validate, new RegExp(`^${file}:5: agents\\.1\\.restart: `));
  const lines = validate.stderr.trim().split("\n");
  assert.equal(lines.length, 2, validate.stderr);
  assert.match(
    lines[1] ?? "",
    new RegExp(`^${file}:5: agents\\.1\\.port: port 4100 is also used by agents\\.0`),
  );
});

test("an inline provider key in an agent's env is refused, saying to use { env } or { file }", async (t) => {
  const key = `sk-proj-${"A1b2C3d4".repeat(5)}`;
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - name: a
    command: run
    workspace: w
    env: { LOG_LEVEL: debug, OPENAI_API_KEY: ${key}, SAFE: { env: OPENAI_API_KEY } }
`,
  );
  for (const args of [["validate"], ["up", "--detach"]]) {
    const result = await runCli([...args, "-c", file]);
    assertOneClearError(
      result,
      /agents\.0\.env\.OPENAI_API_KEY: looks like an OpenAI-style API key written inline; .*\{ env: NAME \}.*\{ file: PATH \}/,
    );
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.ok(!result.stderr.includes(key), "the secret is not echoed");
  }
  nothingStarted(dir);
});

test("a taken port, a missing command and an unwritable workspace are all named; nothing is half-started", async (t) => {
  const [good = 0, taken = 0, other = 0] = await freePorts(3);
  const blocker = createServer().listen(taken, "127.0.0.1");
  t.after(() => blocker.close());
  const { dir, file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n${agent("fine", good)}\n${agent("blocked", taken)}\n${agent("ghost", other, '"no-such-program-xyz --serve"')}\n${agent("nowhere", other + 1, undefined, "./not-a-dir/ws")}\n`,
  );
  writeFileSync(join(dir, "not-a-dir"), "a file where a folder should be");
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.notEqual(up.code, 0);
  assert.match(
    up.stderr,
    new RegExp(`agent blocked: port ${taken} is already in use; stop what holds it or choose another port`),
  );
  assert.match(
    up.stderr,
    /agent ghost: command "no-such-program-xyz" was not found on the agent's PATH; install it or give its full path/,
  );
  assert.match(up.stderr, /agent nowhere: workspace .*not-a-dir\/ws cannot be written \(ENOTDIR\)/);
  assert.match(up.stderr, /nothing was started/);
  assert.doesNotMatch(up.stderr, /\n\s+at /);
  nothingStarted(dir);
});

test("a second up says already running, a conflicting fleet is refused; the running fleet is untouched", async (t) => {
  const [pa = 0, pb = 0] = await freePorts(2);
  const { file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n${agent("a", pa)}\n${agent("b", pb)}\n`,
  );
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const before = await waitFor(async () => {
    const rows = await status(file);
    return rows.every((r) => r.state === "running") ? rows : undefined;
  }, "fleet running");
  const again = await runCli(["up", "--detach", "-c", file]);
  assert.equal(again.code, 0, "up on a running fleet is not an error, like compose");
  assert.match(again.stdout, /^already running \(daemon pid \d+\)/);
  const { dir: otherDir, file: otherFile } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n${agent("c", pa)}\n`,
  );
  const clash = await runCli(["up", "--detach", "-c", otherFile]);
  assertOneClearError(clash, new RegExp(`agent c: port ${pa} is already in use`));
  nothingStarted(otherDir);
  assert.deepEqual(
    (await status(file)).map((r) => [r.name, r.pid, r.state]),
    before.map((r) => [r.name, r.pid, r.state]),
  );
});

test("unknown agents, commands and flags get usage errors", async (t) => {
  const [port = 0] = await freePorts(1);
  const { file } = fleetDir(t, `version: 1\nstateDir: ./state\nagents:\n${agent("a", port)}\n`);
  assertOneClearError(await runCli(["frobnicate"]), /unknown command "frobnicate"/);
  assertOneClearError(await runCli(["status", "--bogus", "-c", file]), /unknown option --bogus; usage:/);
  const down = await runCli(["status", "-c", file]);
  assert.equal(down.code, 0, "status without a daemon shows the configured agents as down");
  assert.match(down.stdout, /^a\s+down\s/m);
  assertOneClearError(await runCli(["logs", "zed", "-c", file]), /no agent named "zed"/);
  assertOneClearError(await runCli(["stop", "-c", file]), /name at least one agent/);
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  assertOneClearError(await runCli(["restart", "zed", "-c", file]), /no agent named "zed" \(agents: a\)/);
});

test("a config holding one of its own secrets in plain text is refused by validate and config apply, naming the line and the reference, never the value", async (t) => {
  const secret = "sk-plain-text-secret-0123456789";
  const configText = (extra: string) => `version: 1
stateDir: ./state
providers: [{ id: p, kind: openai, baseUrl: "http://127.0.0.1:1/v1", keys: [{ env: PLAIN_KEY }] }]
agents:
  - { name: coder, command: [node, agent.js], workspace: ./ws/coder }
${extra}`;
  const { dir, file } = fleetDir(t, configText(""));
  const env = { ...process.env, PLAIN_KEY: secret };
  assert.equal((await runCli(["validate", "-c", file], { env })).code, 0, "the clean config validates");

  const proposed = join(dir, "proposed.yaml");
  const pasted = configText(`# the key, for reference: ${secret}\n`);
  writeFileSync(proposed, pasted);
  const validate = await runCli(["validate", "-c", proposed], { env });
  assertOneClearError(validate, new RegExp(`^${proposed}:6: secret env:PLAIN_KEY: the value of this secret`));
  assert.ok(!validate.stderr.includes(secret), "the message never repeats the value");
  const json = await runCli(["validate", "--json", "-c", proposed], { env });
  assert.equal(json.code, 1);
  assert.equal((JSON.parse(json.stdout) as { problems: Array<{ line: number }> }).problems[0]?.line, 6);

  const apply = await runCli(["config", "apply", proposed, "--yes", "-c", file], { env });
  assertOneClearError(apply, /proposed\.yaml:6: secret env:PLAIN_KEY: .*; nothing was changed/);
  assert.ok(!apply.stderr.includes(secret));
  assert.equal(readFileSync(file, "utf8"), configText(""), "the live config is untouched");

  const unresolved = await runCli(["validate", "-c", proposed], { env: { ...process.env, PLAIN_KEY: "" } });
  assert.equal(unresolved.code, 0, "a shell without the secret cannot look for it, and says nothing");
});
