/**
 * `status` and `describe` tell the truth: health only for a live agent, CPU and memory, the last exit and the
 * next retry in backoff; without a daemon, configured agents are `down` and a dead daemon's agents `orphaned`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { connectDaemon } from "../../src/api/client.ts";
import { fleetDir, freePorts, NODE, pidAlive, runCli, runOnTerminal, waitFor } from "../support/fleet.ts";
import { agentLine } from "../support/migrations.ts";

interface Row {
  name: string;
  state: string;
  pid: number | null;
  health: { ok: boolean | null };
  lastExit: { code: number | null; signal: string | null; at: number } | null;
  retryAt: number | null;
  usage: { cpuPercent: number; memoryBytes: number } | null;
}

async function rows(file: string): Promise<Row[]> {
  const result = await runCli(["status", "--json", "-c", file]);
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as { agents: Row[] }).agents;
}

const CRASHER = `  - { name: crasher, command: [${JSON.stringify(NODE)}, "-e", "console.log('crasher says bye'); process.exit(3)"], workspace: ./ws/crasher, env: { CRASHER_TOKEN: { env: HOME } } }`;
const IDLE = `  - { name: idle, command: [${JSON.stringify(NODE)}, "-e", "setInterval(() => {}, 1000)"], workspace: ./ws/idle, autostart: false }`;

test("status shows health only for live agents, CPU, memory, the last exit and the next retry", async (t) => {
  const [port = 0] = await freePorts(1);
  const yaml = `version: 1\nstateDir: ./state\nagents:\n${agentLine({ name: "steady", port })}\n${CRASHER}\n${IDLE}\n`;
  const { file } = fleetDir(t, yaml);
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const seen = await waitFor(async () => {
    const all = await rows(file);
    const steady = all.find((r) => r.name === "steady");
    const crasher = all.find((r) => r.name === "crasher");
    return steady?.health.ok === true && crasher?.state === "backoff" ? all : undefined;
  }, "steady healthy and crasher in backoff");
  const steady = seen.find((r) => r.name === "steady");
  const crasher = seen.find((r) => r.name === "crasher");
  const idle = seen.find((r) => r.name === "idle");
  assert.ok((steady?.usage?.memoryBytes ?? 0) > 1024 * 1024, "a live agent's memory is shown");
  assert.equal(typeof steady?.usage?.cpuPercent, "number");
  assert.equal(crasher?.health.ok, null, "an agent in backoff has no health");
  assert.equal(crasher?.lastExit?.code, 3);
  assert.ok((crasher?.retryAt ?? 0) > Date.now() + 15_000, "the next retry is about 30 s away");
  assert.equal(idle?.state, "stopped");
  assert.equal(idle?.health.ok, null);
  assert.equal(idle?.usage, null);
  // States only (the watchdog's probes): no CPU sampling, no usage.
  const quick = await connectDaemon(join(file, "..", "state")).get<{ agents: Row[] }>("/v1/status?usage=0");
  assert.equal(quick.agents.find((r) => r.name === "steady")?.state, "running");
  assert.ok(
    quick.agents.every((r) => r.usage === null),
    "?usage=0 measures nothing",
  );

  const table = await runCli(["status", "-c", file]);
  assert.match(
    table.stdout,
    /^AGENT\s+STATE\s+PID\s+PORT\s+UPTIME\s+RESTARTS\s+HEALTH\s+CPU\s+MEM\s+LAST EXIT\s+ISOLATION$/m,
  );
  assert.match(
    table.stdout,
    /^steady\s+running\s+\d+\s+\d+\s+\S+\s+0\s+ok [\d.]+ms\s+[\d.]+%\s+[\d.]+M\s+-\s+sandbox/m,
  );
  assert.match(
    table.stdout,
    /^crasher\s+backoff \(retry in \d+s\)\s+-\s+-\s+-\s+0\s+-\s+-\s+-\s+code 3, \d+s ago/m,
  );

  const coloured = await runOnTerminal(["status", "-c", file]);
  assert.ok(coloured.includes("\x1b[32mrunning"), "a running state is green on a terminal");
  assert.ok(coloured.includes("\x1b[33mbackoff"), "backoff is yellow");
  const plain = await runOnTerminal(["status", "-c", file], { ...process.env, NO_COLOR: "1" });
  assert.ok(!plain.includes("\x1b[3"), "NO_COLOR turns colour off");
  assert.ok(!table.stdout.includes("\x1b["), "no colour into a pipe");

  const described = await runCli(["describe", "crasher", "-c", file]);
  assert.equal(described.code, 0, described.stderr);
  assert.match(described.stdout, /^env names:\s+CRASHER_TOKEN$/m);
  assert.ok(!described.stdout.includes(process.env.HOME ?? "\u0000"), "describe never shows an env value");
  assert.match(described.stdout, /^restart:\s+on-failure, delay 30s/m);
  assert.match(described.stdout, /^isolation:\s+sandbox$/m);
  assert.match(described.stdout, /last exits:\n {2}code 3, \d+s ago/);
  assert.match(described.stdout, /\| crasher says bye$/m);
  assert.match(described.stdout, /agent\.exited \{"code":3/);
  const unknown = await runCli(["describe", "zed", "-c", file]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no agent named "zed" \(agents: steady, crasher, idle\)/);
});

test("without a daemon, status shows configured agents as down and a dead daemon's agents as orphaned", async (t) => {
  const [port = 0] = await freePorts(1);
  const { dir, file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n${agentLine({ name: "steady", port })}\n${IDLE}\n`,
  );
  const before = await runCli(["status", "-c", file]);
  assert.equal(before.code, 0, before.stderr);
  assert.match(before.stdout, /^steady\s+down\s+-\s+\d+/m);
  assert.match(before.stdout, /no daemon runs; "\S+ up" starts the fleet/);

  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const live = await waitFor(
    async () => (await rows(file)).find((r) => r.name === "steady" && r.state === "running"),
    "steady running",
  );
  const daemon = JSON.parse(readFileSync(join(dir, "state/daemon.json"), "utf8")) as { pid: number };
  process.kill(daemon.pid, "SIGKILL");
  await waitFor(() => !pidAlive(daemon.pid), "the daemon gone");

  const after = await runCli(["status", "--json", "-c", file]);
  assert.equal(after.code, 0, after.stderr);
  const agents = (JSON.parse(after.stdout) as { agents: Row[] }).agents;
  assert.deepEqual(
    agents.filter((r) => r.name !== "(stray)").map((r) => [r.name, r.state, r.pid]),
    [
      ["steady", "orphaned", live.pid],
      ["idle", "down", null],
    ],
  );
  const table = await runCli(["status", "-c", file]);
  assert.match(table.stdout, /process\(es\) of a dead daemon do; "\S+ up" stops them first/);
  assert.equal((await runCli(["down", "-c", file])).code, 0);
  await waitFor(() => !pidAlive(live.pid ?? 0), "the orphan stopped by down");
  const clean = await rows(file);
  assert.deepEqual(
    clean.map((r) => r.state),
    ["down", "down"],
  );
});
