/**
 * A failed `config apply` explains itself fast: an agent that exits at once fails the health check without
 * waiting out its 30 s restart delay, and the CLI shows its last exit, its own output and what was rolled back.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { BIN, fleetDir, freePorts, NODE, runCli, status, waitFor } from "../support/fleet.ts";
import { agentLine } from "../support/migrations.ts";

/** An agent with the default restart settings (30 s delay) that prints two lines and exits 3. */
const CRASHER = `  - { name: bravo, command: [${JSON.stringify(NODE)}, "-e", "console.log('boom'); console.error('bravo cannot start: no model'); process.exit(3)"], workspace: ./ws/bravo }`;

const fleet = (agents: string[]) => `version: 1\nstateDir: ./state\nagents:\n${agents.join("\n")}\n`;

test("a failed apply of an agent that exits at once reports within 10 s, with its output, and rolls back", async (t) => {
  const [pa = 0] = await freePorts(1);
  const alpha = agentLine({ name: "alpha", port: pa });
  const { dir, file } = fleetDir(t, fleet([alpha]));
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  await waitFor(async () => (await status(file)).some((r) => r.state === "running"), "alpha running");
  const proposed = join(dir, "new.yaml");
  writeFileSync(proposed, fleet([alpha, CRASHER]));

  const started = Date.now();
  const applied = await runCli(["config", "apply", proposed, "--yes", "-c", file]);
  const seconds = (Date.now() - started) / 1000;
  t.diagnostic(`the failed apply reported after ${seconds.toFixed(1)} s`);
  assert.equal(applied.code, 1, applied.stderr);
  assert.ok(seconds < 10, `the failed apply took ${seconds.toFixed(1)} s`);
  assert.match(applied.stderr, /bravo: \w+, last exit code 3 at/);
  assert.match(applied.stderr, /\| boom\n/, "the agent's stdout is in the report");
  assert.match(applied.stderr, /\| bravo cannot start: no model\n/, "the agent's stderr is in the report");
  assert.match(
    applied.stderr,
    /rolled back the config file and the fleet: stopped bravo; the previous config runs/,
  );
  assert.match(applied.stderr, /health check failed: bravo \(state backoff, last exit code=3/);
  const lastLine = applied.stderr.trimEnd().split("\n").at(-1) ?? "";
  assert.match(lastLine, /^flotilla config: health check failed/, "the error line comes last");

  // The rolled-back agent is gone from the config, but `logs` still shows what it printed.
  const logs = await runCli(["logs", "bravo", "-c", file]);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /^boom$/m);
  assert.match(logs.stdout, /^bravo cannot start: no model$/m);
});

test("after a restart that fails and is rolled back, logs still show the failed run's output", async (t) => {
  const [pa = 0] = await freePorts(1);
  const alpha = agentLine({ name: "alpha", port: pa });
  const { dir, file } = fleetDir(t, fleet([alpha]));
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  await waitFor(async () => (await status(file)).some((r) => r.state === "running"), "alpha running");
  const proposed = join(dir, "new.yaml");
  const broken = alpha.replace(
    /command: \[[^\]]*\]/,
    `command: [${JSON.stringify(NODE)}, "-e", "console.log('alpha broke'); process.exit(4)"]`,
  );
  writeFileSync(proposed, fleet([broken]));
  const applied = await runCli(["config", "apply", proposed, "--yes", "-c", file]);
  assert.equal(applied.code, 1, applied.stderr);
  assert.match(applied.stderr, /\| alpha broke\n/);
  assert.match(applied.stderr, /restarted alpha on its previous config/);
  await waitFor(async () => (await status(file)).some((r) => r.state === "running"), "alpha running again");
  const logs = await runCli(["logs", "alpha", "-n", "200", "-c", file]);
  assert.match(logs.stdout, /^alpha broke$/m, "the daemon's log ring kept the rolled-back run's lines");
});

test("on a terminal, apply shows which agent it waits for and the time left", async (t) => {
  const [pa = 0, pb = 0] = await freePorts(2);
  const settings = "migrations: { healthyFor: 1500ms }\n";
  const alpha = agentLine({ name: "alpha", port: pa });
  const { dir, file } = fleetDir(t, `${fleet([alpha])}`);
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const proposed = join(dir, "new.yaml");
  writeFileSync(
    proposed,
    `version: 1\nstateDir: ./state\n${settings}agents:\n${alpha}\n${agentLine({ name: "bravo", port: pb })}\n`,
  );
  // `script` gives the CLI a terminal; its output is what the operator would see.
  const command = [NODE, BIN, "config", "apply", proposed, "--yes", "-c", file]
    .map((a) => `'${a}'`)
    .join(" ");
  const seen = await new Promise<string>((resolve) => {
    execFile("script", ["-qec", command, "/dev/null"], { timeout: 60_000 }, (_err, stdout) =>
      resolve(stdout),
    );
  });
  assert.match(seen, /checking health: bravo (starting|running [\d.]+s); \d+s left/);
  assert.match(seen, /applied \(apply-/);
});
