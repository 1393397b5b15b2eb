/**
 * A CLI that fits the hand: --version, "did you mean" for commands, options and agents, our own one-line
 * messages for bad options, help per command with an example, `up` twice is fine, and --all for start/restart.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fleetDir, freePorts, runCli, status, waitFor } from "../support/fleet.ts";
import { agentLine } from "../support/migrations.ts";

test("--version, did-you-mean and one-line option errors, help CMD with its options and an example", async () => {
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^flotilla \d+\.\d+\.\d+ \(node v24\.\d+\.\d+\)\n$/);

  const typo = await runCli(["stauts"]);
  assert.equal(typo.code, 2);
  assert.equal(
    typo.stderr,
    'flotilla: unknown command "stauts" (did you mean status?); run "flotilla help" for the list\n',
  );

  const option = await runCli(["status", "--jsno"]);
  assert.equal(option.code, 2);
  assert.equal(
    option.stderr,
    "flotilla status: unknown option --jsno (did you mean --json?); usage: flotilla status [-c FILE] [--json]\n",
  );
  const missing = await runCli(["logs", "web", "--lines"]);
  assert.match(missing.stderr, /^flotilla logs: option --lines needs a value; usage: /);
  const valued = await runCli(["status", "--json=yes"]);
  assert.match(valued.stderr, /^flotilla status: option --json takes no value; usage: /);

  for (const args of [
    ["help", "logs"],
    ["logs", "--help"],
  ]) {
    const help = await runCli(args);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: flotilla logs \[AGENT\.\.\.\]/);
    assert.match(help.stdout, /^ {2}-n, --lines VALUE$/m);
    assert.match(help.stdout, /^ {2}-t, --time$/m);
    assert.match(help.stdout, /^example:\n {2}flotilla logs coder -n 100 -f$/m);
  }
  const unknownTopic = await runCli(["help", "lgos"]);
  assert.equal(unknownTopic.code, 2);
  assert.match(unknownTopic.stderr, /did you mean logs\?/);
});

test("YAML errors point at the line and column where they start; a mistyped key gets did-you-mean", async (t) => {
  const { dir } = fleetDir(t, "version: 1\n");
  const typo = join(dir, "typo.yaml");
  writeFileSync(
    typo,
    "version: 1\nstateDir: ./state\nagents:\n  - name: web\n    command: sleep 100\n    workspace: ./ws\n    helth:\n      http: /health\n",
  );
  const keyed = await runCli(["validate", "-c", typo]);
  assert.equal(keyed.code, 1);
  assert.equal(
    keyed.stderr,
    `${typo}:7: agents.0: unknown key "helth" (did you mean health?); remove it or check its spelling\n`,
  );
  const quote = join(dir, "quote.yaml");
  writeFileSync(
    quote,
    'version: 1\nstateDir: ./state\nagents:\n  - name: "web\n    command: sleep 1\n    workspace: ./ws\n    port: 3000\n',
  );
  const unclosed = await runCli(["validate", "-c", quote]);
  assert.equal(unclosed.code, 1);
  assert.match(
    unclosed.stderr,
    new RegExp(`^${quote}:4:11: \\(yaml\\): Missing closing "quote; fix the YAML syntax\n$`),
  );
});

test("up on a running fleet is exit 0 'already running'; restart --all restarts every agent; start --all", async (t) => {
  const [pa = 0, pb = 0] = await freePorts(2);
  const { file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n${agentLine({ name: "alpha", port: pa })}\n${agentLine({ name: "bravo", port: pb })}\n`,
  );
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const again = await runCli(["up", "--detach", "-c", file]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^already running \(daemon pid \d+\)/);

  const before = await waitFor(async () => {
    const rows = await status(file);
    return rows.every((r) => r.state === "running") ? rows : undefined;
  }, "both running");
  const restarted = await runCli(["restart", "--all", "--yes", "-c", file]);
  assert.equal(restarted.code, 0, restarted.stderr);
  assert.match(restarted.stdout, /^will restart: alpha, bravo$/m);
  const after = await waitFor(async () => {
    const rows = await status(file);
    return rows.every((r) => r.state === "running") ? rows : undefined;
  }, "both running again");
  for (const row of after)
    assert.notEqual(row.pid, before.find((b) => b.name === row.name)?.pid, `${row.name} was restarted`);

  assert.equal((await runCli(["stop", "--all", "--yes", "-c", file])).code, 0);
  assert.ok((await status(file)).every((r) => r.state === "stopped"));
  const started = await runCli(["start", "--all", "-c", file]);
  assert.equal(started.code, 0, started.stderr);
  await waitFor(async () => (await status(file)).every((r) => r.state === "running"), "both started");

  const both = await runCli(["restart", "alpha", "--all", "-c", file]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /name agents or give --all, not both/);
  const typo = await runCli(["restart", "alhpa", "-c", file]);
  assert.match(typo.stderr, /no agent named "alhpa" \(did you mean alpha\?\)/);
});
