/** Every bad input gets one clear line on stderr, a non-zero exit, nothing started and nothing running disturbed. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
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

test("a second up, or a conflicting fleet, leaves the running fleet untouched", async (t) => {
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
  assertOneClearError(again, /a daemon \(pid \d+\) already runs this fleet/);
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
  assertOneClearError(await runCli(["status", "--bogus", "-c", file]), /Unknown option '--bogus'/);
  assertOneClearError(await runCli(["status", "-c", file]), /no daemon is running/);
  assertOneClearError(await runCli(["logs", "zed", "-c", file]), /no agent named "zed"/);
  assertOneClearError(await runCli(["stop", "-c", file]), /name at least one agent/);
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  assertOneClearError(await runCli(["restart", "zed", "-c", file]), /no agent named "zed" \(agents: a\)/);
});
