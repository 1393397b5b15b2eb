/**
 * The watchdog's loop through its CLI (`flotilla watchdog --once`) against real fleets: the action budget per
 * hour (escalate once, then nothing until acknowledged), a fleet stopped on purpose, a second watchdog, a
 * config that no longer validates, and the embedded watchdog that `up` starts and `down` stops.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Incident } from "../../src/watchdog/types.ts";
import {
  BIN,
  fleetDir,
  freePorts,
  NODE,
  nodeScript,
  pidAlive,
  runCli,
  status,
  waitFor,
} from "../support/fleet.ts";

const FAST =
  "watchdog: { embedded: false, every: 1s, failuresBeforeAction: 2, probeSpacing: 200ms, probeTimeout: 500ms, slowTimeout: 1s, maxActionsPerHour: 2 }";

/** An agent that answers on its port, then dies after `lifeMs`. */
function mortal(port: number, lifeMs: number): string {
  const code = `require("http").createServer((q, s) => s.end("ok")).listen(${port}); setTimeout(() => process.exit(3), ${lifeMs})`;
  return JSON.stringify(nodeScript(code));
}

async function once(file: string, extra: string[] = []) {
  const result = await runCli(["watchdog", "--once", "--json", "-c", file, ...extra]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as {
    incidents: string[];
    probes: Array<{ target: { id: string }; state: string }>;
  };
}

async function incidents(file: string): Promise<Incident[]> {
  const result = await runCli(["incidents", "--json", "-c", file]);
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as { incidents: Incident[] }).incidents;
}

test("an agent that keeps dying: recovered maxActionsPerHour times, then one escalation and no action until acknowledged", async (t) => {
  const [port] = await freePorts(1);
  const { dir, file } = fleetDir(
    t,
    `version: 1
${FAST}
alerts: [{ id: ops, kind: file, path: ./alerts.jsonl }]
agents:
  - { name: coder, command: ${mortal(port ?? 0, 1500)}, port: ${port}, workspace: ./ws/coder, restart: { policy: never }, health: { http: /, grace: 3s, interval: 300ms } }
`,
  );
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  const died = () => waitFor(async () => (await status(file))[0]?.state === "failed", "coder to die");
  for (let n = 1; n <= 2; n++) {
    await died();
    const run = await once(file);
    assert.equal(run.incidents.length, 1, `recovery ${n} opens an incident`);
    const [latest] = await incidents(file);
    assert.equal(latest?.outcome, "recovered", `recovery ${n}: ${JSON.stringify(latest?.notes)}`);
  }
  await died();
  const third = await once(file);
  assert.equal(third.incidents.length, 1);
  const [halted] = await incidents(file);
  assert.equal(halted?.outcome, "escalated");
  assert.equal(halted?.ran.length, 0, "no third recovery within the hour");
  assert.match(halted?.notes.join("\n") ?? "", /2 recoveries within the hour/);
  assert.equal((await status(file))[0]?.state, "failed", "the watchdog left it down");
  const alerts = () => readFileSync(join(dir, "alerts.jsonl"), "utf8").trim().split("\n");
  assert.equal(alerts().length, 1, "escalated exactly once");
  assert.match(alerts()[0] ?? "", /human needed: agent:coder/);
  // Still down, still halted: the next runs neither act nor escalate again.
  const fourth = await once(file);
  assert.deepEqual(fourth.incidents, []);
  assert.equal(alerts().length, 1, "no second escalation");
  assert.equal((await status(file))[0]?.state, "failed");
  // A human acknowledges: the watchdog acts again.
  const ack = await runCli(["incidents", "ack", halted?.id ?? "", "-c", file]);
  assert.equal(ack.code, 0, ack.stderr);
  const fifth = await once(file);
  assert.equal(fifth.incidents.length, 1, "acting again after the acknowledgement");
  const [after] = await incidents(file);
  assert.notEqual(after?.id, halted?.id);
  assert.ok((after?.ran.length ?? 0) > 0, "it ran a recovery");
});

test("a fleet stopped with flotilla down is left alone; up clears that", async (t) => {
  const [port] = await freePorts(1);
  const { file } = fleetDir(
    t,
    `version: 1
${FAST}
agents:
  - { name: coder, command: ${mortal(port ?? 0, 600_000)}, port: ${port}, workspace: ./ws/coder, health: { http: /, grace: 3s } }
`,
  );
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  assert.equal((await runCli(["down", "-c", file])).code, 0);
  const run = await once(file);
  assert.equal(run.probes.length, 0, "nothing probed");
  assert.deepEqual(run.incidents, []);
  const offline = await runCli(["status", "--json", "-c", file]);
  assert.equal((JSON.parse(offline.stdout) as { daemon: unknown }).daemon, null, "no daemon was started");
  // What the watchdog's restart runs: an operator's down during a recovery wins.
  const guarded = await runCli(["up", "--detach", "--unless-stopped", "--json", "-c", file]);
  assert.equal(guarded.code, 0, guarded.stderr);
  assert.equal((JSON.parse(guarded.stdout) as { started: boolean }).started, false);
  const still = await runCli(["status", "--json", "-c", file]);
  assert.equal(
    (JSON.parse(still.stdout) as { daemon: unknown }).daemon,
    null,
    "up --unless-stopped started nothing",
  );
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const next = await once(file);
  assert.ok(next.probes.length > 0, "probed again after up");
  assert.ok(
    next.probes.every((p) => p.state !== "down"),
    JSON.stringify(next.probes),
  );
  const shown = await runCli(["status", "-c", file]);
  assert.match(shown.stdout, /^oversight: /m, "status shows both heartbeats");
  assert.match(
    shown.stdout,
    new RegExp(`^watchdog: last run \\S+ ago, ${next.probes.length} targets, 0 down$`, "m"),
  );
});

test("a second watchdog on the same state dir is refused, naming the first", async (t) => {
  const { file } = fleetDir(t, `version: 1\n${FAST}\n`);
  const first = spawn(NODE, [BIN, "watchdog", "--every", "1h", "--wait-first", "-c", file], {
    stdio: "ignore",
  });
  t.after(() => first.kill("SIGKILL"));
  const stateDir = join(file, "..", ".flotilla");
  await waitFor(() => existsSync(join(stateDir, "watchdog.lock")), "the first watchdog's lock");
  const second = await runCli(["watchdog", "--once", "-c", file]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`a watchdog \\(pid ${first.pid}\\) already watches`));
  assert.doesNotMatch(second.stderr, /\n\s+at /, "no stack trace");
  first.kill("SIGTERM");
  await waitFor(
    () => !pidAlive(first.pid ?? 0) && !existsSync(join(stateDir, "watchdog.lock")),
    "the lock released",
  );
});

test("a live config that no longer validates: refused without --state-dir, restored with it", async (t) => {
  const [port] = await freePorts(1);
  const good = `version: 1
${FAST}
migrations: { lastKnownGoodAfter: 1s }
agents:
  - { name: coder, command: ${mortal(port ?? 0, 600_000)}, port: ${port}, workspace: ./ws/coder, health: { http: /, grace: 3s } }
`;
  const { file } = fleetDir(t, good);
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const stateDir = join(file, "..", ".flotilla");
  await waitFor(() => existsSync(join(stateDir, "last-known-good.json")), "a last known good", 20_000);
  writeFileSync(file, "version: 1\nagents: [ {{ not yaml\n");
  const refused = await runCli(["watchdog", "--once", "-c", file]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /give --state-dir DIR/);
  const run = await once(file, ["--state-dir", stateDir]);
  assert.equal(run.incidents.length, 1);
  const [incident] = await incidents(file);
  assert.equal(incident?.target.id, "config");
  assert.equal(incident?.outcome, "recovered", JSON.stringify(incident?.notes));
  assert.equal(incident?.restore?.outcome, "applied");
  assert.equal(readFileSync(file, "utf8"), good, "the live file is the last known good again");
});

test("up starts the embedded watchdog outside the daemon's tree; it outlives a daemon kill -9 and heals it; down stops it", async (t) => {
  const [port] = await freePorts(1);
  const { file } = fleetDir(
    t,
    `version: 1
watchdog: { every: 1s, failuresBeforeAction: 2, probeSpacing: 200ms, probeTimeout: 500ms, daemonGrace: 5s }
agents:
  - { name: coder, command: ${mortal(port ?? 0, 600_000)}, port: ${port}, workspace: ./ws/coder, health: { http: /, grace: 3s } }
`,
  );
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const stateDir = join(file, "..", ".flotilla");
  const lock = () => JSON.parse(readFileSync(join(stateDir, "watchdog.lock"), "utf8")) as { pid: number };
  const watchdog = await waitFor(
    () => existsSync(join(stateDir, "watchdog.lock")) && lock().pid,
    "the watchdog",
  );
  const daemon = JSON.parse(readFileSync(join(stateDir, "daemon.json"), "utf8")) as { pid: number };
  process.kill(daemon.pid, "SIGKILL");
  const healed = await waitFor(
    async () => {
      const info = JSON.parse(readFileSync(join(stateDir, "daemon.json"), "utf8")) as {
        pid: number;
        api: string;
      };
      if (info.pid === daemon.pid || !info.api) return undefined;
      const rows = await status(file);
      return rows[0]?.state === "running" ? info : undefined;
    },
    "a new daemon with the agent running",
    30_000,
  );
  assert.ok(pidAlive(watchdog), "the same watchdog lives on");
  assert.notEqual(healed.pid, daemon.pid);
  const down = await runCli(["down", "--json", "-c", file]);
  assert.equal((JSON.parse(down.stdout) as { watchdogPid: number }).watchdogPid, watchdog);
  await waitFor(() => !pidAlive(watchdog), "the watchdog stopped by down");
});
