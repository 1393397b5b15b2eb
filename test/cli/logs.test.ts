/**
 * `flotilla logs` like pm2's: no name interleaves every agent with a name prefix (coloured on a terminal only,
 * never with NO_COLOR), several names, --time, -n 0, an unknown name lists the known ones, -f ends on SIGTERM.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { BIN, fleetDir, NODE, runCli, runOnTerminal, waitFor } from "../support/fleet.ts";

const talker = (name: string) =>
  `  - { name: ${name}, command: [${JSON.stringify(NODE)}, "-e", "console.log('hello from ${name}'); let i = 0; setInterval(() => console.log('${name} tick ' + i++), 200)"], workspace: ./ws/${name} }`;

test("logs interleaves every agent with a prefix, takes several names, --time, -n 0, and names the known agents", async (t) => {
  const { file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n${talker("alpha")}\n${talker("bravo")}\n`,
  );
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  await waitFor(async () => {
    const out = (await runCli(["logs", "-c", file])).stdout;
    return out.includes("alpha tick 2") && out.includes("bravo tick 2");
  }, "both agents' lines");

  const all = await runCli(["logs", "-n", "5", "-c", file]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^alpha \| alpha tick \d+$/m);
  assert.match(all.stdout, /^bravo \| bravo tick \d+$/m);
  assert.ok(!all.stdout.includes("\x1b["), "no colour into a pipe");

  const timed = await runCli(["logs", "alpha", "bravo", "--time", "-n", "2", "-c", file]);
  const lines = timed.stdout.trim().split("\n");
  assert.equal(lines.length, 4, timed.stdout);
  for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (alpha|bravo) \| /);
  const times = lines.map((l) => l.slice(0, 23));
  assert.deepEqual(times, [...times].sort(), "merged in time order");

  const none = await runCli(["logs", "alpha", "-n", "0", "-c", file]);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, "");

  const unknown = await runCli(["logs", "alpah", "-c", file]);
  assert.equal(unknown.code, 1);
  assert.equal(
    unknown.stderr,
    'flotilla logs: no agent named "alpah" (did you mean alpha?); agents: alpha, bravo\n',
  );
  const bad = await runCli(["logs", "alpha", "--lines=-XYZ", "-c", file]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^flotilla logs: -n takes a whole number of lines \(0 or more\), not "-XYZ"/);

  const coloured = await runOnTerminal(["logs", "-n", "1", "-c", file], process.env);
  assert.ok(coloured.includes("\x1b[36malpha |\x1b[0m"), "each agent's prefix in its colour on a terminal");
  const plain = await runOnTerminal(["logs", "-n", "1", "-c", file], { ...process.env, NO_COLOR: "1" });
  assert.match(plain, /alpha \| /);
  assert.ok(!plain.includes("\x1b[36m"), "NO_COLOR turns colour off");
});

test("logs -f follows several agents and ends on SIGTERM", async (t) => {
  const { file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n${talker("alpha")}\n${talker("bravo")}\n`,
  );
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const follower = spawn(NODE, [BIN, "logs", "-f", "-n", "0", "-c", file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => follower.kill("SIGKILL"));
  let out = "";
  follower.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  await waitFor(
    () => /^alpha \| alpha tick/m.test(out) && /^bravo \| bravo tick/m.test(out),
    "both followed",
  );
  const exited = new Promise<number | null>((resolve) => follower.once("exit", (code) => resolve(code)));
  follower.kill("SIGTERM");
  assert.equal(await exited, 0, "the follower ends cleanly on SIGTERM");
});
