/** `flotilla events`: filters by agent, kind prefix and age, follows new events with -f, and reads the ledger file once the daemon is gone. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { BIN, fleetDir, NODE, nodeScript, runCli, status, waitFor } from "../support/fleet.ts";

interface EventRow {
  id: number;
  ts: number;
  kind: string;
  agent: string | null;
  data: Record<string, unknown>;
}

const SLEEPER = JSON.stringify(nodeScript("setInterval(() => {}, 1e9)"));

async function eventsJson(args: string[]): Promise<EventRow[]> {
  const result = await runCli(["events", "--json", ...args]);
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as { events: EventRow[] }).events;
}

test("events lists, filters, follows, and works without the daemon", async (t) => {
  const { file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - { name: alpha, command: ${SLEEPER}, workspace: ./ws/alpha }
  - { name: bravo, command: ${SLEEPER}, workspace: ./ws/bravo }
`,
  );
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  await waitFor(async () => (await status(file)).every((a) => a.state === "running"), "both running");

  const alpha = await waitFor(async () => {
    const rows = await eventsJson(["--agent", "alpha", "--kind", "agent.", "-c", file]);
    return rows.some((e) => e.kind === "agent.running") && rows;
  }, "alpha's agent.running event");
  assert.ok(alpha.every((e) => e.agent === "alpha" && e.kind.startsWith("agent.")));
  assert.ok(alpha.some((e) => e.kind === "agent.starting"));
  const ids = alpha.map((e) => e.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
    "oldest first",
  );
  assert.deepEqual(await eventsJson(["--kind", "no.such.kind", "-c", file]), []);
  assert.ok((await eventsJson(["--since", "1h", "-c", file])).length >= alpha.length);
  const future = await eventsJson(["--since", "1ms", "--agent", "alpha", "-c", file]);
  assert.ok(
    future.every((e) => e.ts >= Date.now() - 60_000),
    "--since drops older events",
  );
  assert.equal((await eventsJson(["-n", "1", "-c", file])).length, 1);

  const text = await runCli(["events", "--agent", "bravo", "-c", file]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}agent\.starting {2}bravo {2}\{"pid":\d+\}$/m);

  // -f prints what is already there, then each new event once, until SIGINT.
  const follower = spawn(NODE, [BIN, "events", "-f", "--json", "--agent", "bravo", "-c", file]);
  let out = "";
  follower.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const followed = () =>
    out
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as EventRow);
  await waitFor(() => followed().some((e) => e.kind === "agent.running"), "the follower's first events");
  const stop = await runCli(["stop", "bravo", "-c", file]);
  assert.equal(stop.code, 0, stop.stderr);
  await waitFor(() => followed().some((e) => e.kind === "agent.stopped"), "agent.stopped while following");
  const seen = followed().map((e) => e.id);
  assert.equal(new Set(seen).size, seen.length, "no event printed twice");
  const exited = new Promise<number | null>((resolve) => follower.once("exit", resolve));
  follower.kill("SIGINT");
  assert.equal(await exited, 0);

  const down = await runCli(["down", "-c", file]);
  assert.equal(down.code, 0, down.stderr);
  const offline = await eventsJson(["--agent", "bravo", "-c", file]);
  assert.ok(
    offline.some((e) => e.kind === "agent.stopped"),
    "read from the ledger file with no daemon",
  );
});

test("events refuses a bad --since or -n and an unknown agent in one line", async (t) => {
  const { file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n  - { name: alpha, command: x, workspace: ./w }\n`,
  );
  for (const [args, pattern] of [
    [["--since", "soon"], /--since takes a duration such as 30m/],
    [["-n", "0"], /-n takes a whole number/],
    [["--agent", "nobody"], /no agent named "nobody"/],
  ] as const) {
    const result = await runCli(["events", ...args, "-c", file]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
});
