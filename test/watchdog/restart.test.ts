/**
 * The watchdog's deterministic restart on real fleets started through the CLI: a daemon killed with -9 or
 * SIGSTOPped is replaced (and its orphans are gone), a pid in daemon.json that is not Flotilla's daemon is
 * never killed, a failed agent is started, oversight restarted, and a dead daemon or a broken config is a
 * failed run, never an exception.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { readDaemonInfo } from "../../src/api/daemon-files.ts";
import { loadConfig } from "../../src/config/load.ts";
import { readProc } from "../../src/supervisor/process-tree.ts";
import type { RecoverContext } from "../../src/watchdog/recover/restart.ts";
import { restartTarget } from "../../src/watchdog/recover/restart.ts";
import {
  EXAMPLE_AGENT,
  NODE,
  fleetDir,
  freePorts,
  pidAlive,
  runCli,
  status,
  waitFor,
} from "../support/fleet.ts";
import { agentLine } from "../support/migrations.ts";

const daemon = { kind: "daemon", id: "daemon", name: "daemon" } as const;

async function upFleet(t: TestContext, extra = "") {
  const [port] = await freePorts(1);
  const { dir, file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\n${extra}agents:\n${agentLine({ name: "alpha", port: port ?? 0 })}\n`,
  );
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  const ctx: RecoverContext = {
    config: loadConfig(file).config,
    configFile: file,
    timeoutMs: 60_000,
    env: process.env,
  };
  return { dir, file, ctx };
}

const healthy = (file: string) =>
  waitFor(
    async () => {
      const rows = await status(file);
      return rows.length > 0 && rows.every((r) => r.state === "running" && r.health.ok === true)
        ? rows
        : undefined;
    },
    "every agent running and healthy",
    30_000,
  );

test("a daemon killed with -9 is started again; the agents it left are gone and the new ones healthy", async (t) => {
  const { file, ctx } = await upFleet(t);
  const [before] = await healthy(file);
  const orphan = before?.pid ?? 0;
  const info = readDaemonInfo(ctx.config.stateDir);
  assert.ok(info && orphan > 0);
  process.kill(info.pid, "SIGKILL");
  await waitFor(() => !pidAlive(info.pid), "the daemon to die");
  assert.ok(pidAlive(orphan), "the agent outlives its daemon: an orphan");
  const run = await restartTarget(daemon, ctx);
  assert.ok(run);
  assert.deepEqual(run.argv, ["flotilla", "up", "--detach", "--unless-stopped"]);
  assert.equal(run.origin, "deterministic");
  assert.equal(run.exitCode, 0, run.output);
  await waitFor(() => !pidAlive(orphan), "the orphan to be gone");
  const [after] = await healthy(file);
  assert.notEqual(after?.pid, orphan);
  const next = readDaemonInfo(ctx.config.stateDir);
  assert.ok(next && next.pid !== info.pid);
  assert.notEqual(readProc(next.pid)?.ppid, process.pid, "the new daemon is not the watchdog's child");
});

test("a SIGSTOPped daemon (alive, not answering) is verified as ours, killed and replaced", async (t) => {
  const { file, ctx } = await upFleet(t);
  await healthy(file);
  const info = readDaemonInfo(ctx.config.stateDir);
  assert.ok(info);
  process.kill(info.pid, "SIGSTOP");
  t.after(() => {
    if (pidAlive(info.pid, info.startTime)) process.kill(info.pid, "SIGKILL");
  });
  const run = await restartTarget(daemon, ctx);
  assert.ok(run);
  assert.equal(run.exitCode, 0, run.output);
  assert.match(run.output, new RegExp(`killed the daemon \\(pid ${info.pid}\\): alive but not answering`));
  assert.equal(pidAlive(info.pid, info.startTime), false);
  await healthy(file);
  assert.notEqual(readDaemonInfo(ctx.config.stateDir)?.pid, info.pid);
  // A daemon that answers is left alone.
  const again = await restartTarget(daemon, ctx);
  assert.deepEqual(again?.argv, ["GET", "/healthz"]);
  assert.match(again?.output ?? "", /answers again; not restarted/);
});

test("a pid in daemon.json that is not Flotilla's daemon is never killed", async (t) => {
  const { file, ctx } = await upFleet(t);
  const info = readDaemonInfo(ctx.config.stateDir);
  assert.ok(info);
  await runCli(["down", "-c", file]);
  const stranger = spawn(NODE, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  t.after(() => stranger.kill("SIGKILL"));
  const pid = stranger.pid as number;
  await waitFor(() => readProc(pid), "the stranger to start");
  const daemonJson = join(ctx.config.stateDir, "daemon.json");
  writeFileSync(daemonJson, JSON.stringify({ ...info, pid, startTime: readProc(pid)?.startTime, api: "" }));
  const run = await restartTarget(daemon, ctx);
  assert.deepEqual(run?.argv, ["kill", "-KILL", String(pid)]);
  assert.equal(run?.exitCode, 1);
  assert.match(run?.output ?? "", /does not run bin\/flotilla-daemon\.js; not killed/);
  assert.ok(pidAlive(pid), "the stranger lives");
  assert.equal(JSON.parse(readFileSync(daemonJson, "utf8")).pid, pid, "and nothing was started over it");
});

test("a failed agent is started, oversight restarted, and with the daemon down each is a failed run", async (t) => {
  const [port] = await freePorts(1);
  const { file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - { name: once, command: [${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}], port: ${port}, workspace: ./ws/once, health: { http: /health, interval: 100ms, grace: 10s }, restart: { policy: never }, stopTimeout: 3s }
`,
  );
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const ctx: RecoverContext = {
    config: loadConfig(file).config,
    configFile: file,
    timeoutMs: 30_000,
    env: process.env,
  };
  const [row] = await healthy(file);
  process.kill(row?.pid ?? 0, "SIGKILL");
  await waitFor(async () => (await status(file))[0]?.state === "failed", "the agent to fail");
  const agent = { kind: "agent", id: "agent:once", name: "once" } as const;
  const started = await restartTarget(agent, ctx);
  assert.deepEqual(started?.argv, ["POST", "/v1/agents/once/start"]);
  assert.equal(started?.exitCode, 0, started?.output);
  await healthy(file);
  const restarted = await restartTarget(agent, ctx);
  assert.deepEqual(restarted?.argv, ["POST", "/v1/agents/once/restart"]);
  assert.equal(restarted?.exitCode, 0, restarted?.output);
  const oversight = await restartTarget({ kind: "oversight", id: "oversight", name: "oversight" }, ctx);
  assert.deepEqual(oversight?.argv, ["POST", "/v1/oversight/restart"]);
  assert.match(oversight?.output ?? "", /^oversight restarted; run #\d+ started$/);
  assert.equal(await restartTarget({ kind: "config", id: "config", name: "config" }, ctx), undefined);
  assert.equal(await restartTarget({ kind: "provider", id: "provider:sim", name: "sim" }, ctx), undefined);

  await runCli(["down", "-c", file]);
  for (const target of [agent, { kind: "gateway", id: "gateway", name: "gateway" } as const]) {
    const down = await restartTarget(target, ctx);
    assert.equal(down?.exitCode, 1);
    assert.equal(down?.output, "daemon down");
  }
  // A live config that does not validate: `up` fails, and the failed run says why (the loop restores next).
  writeFileSync(file, "version: 1\nagents: [\n");
  const broken = await restartTarget(daemon, ctx);
  assert.notEqual(broken?.exitCode, 0);
  assert.match(broken?.output ?? "", /flotilla\.yaml/);
  assert.equal(readDaemonInfo(ctx.config.stateDir), undefined);
});
