/**
 * The watchdog's probes against a real fleet (`flotilla up --detach`): healthy, starting inside grace, stopped
 * by the operator, slow (answers only within slowTimeout), hung (SIGSTOP) and confirmed down, the gateway and
 * a provider, a stale oversight heartbeat, a killed daemon, and an invalid live config.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readDaemonInfo } from "../../src/api/daemon-files.ts";
import { loadConfig } from "../../src/config/load.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import { readProc, signalGroup } from "../../src/supervisor/process-tree.ts";
import { processStartedAt } from "../../src/watchdog/process-start.ts";
import { oversightHeartbeat } from "../../src/watchdog/probe-records.ts";
import { confirmDown, type ProbeContext, probeTarget } from "../../src/watchdog/probes.ts";
import { watchTargets } from "../../src/watchdog/targets.ts";
import type { Target } from "../../src/watchdog/types.ts";
import {
  EXAMPLE_AGENT,
  fleetDir,
  freePorts,
  NODE,
  nodeScript,
  pidAlive,
  runCli,
  simulatedGateway,
  status,
  waitFor,
} from "../support/fleet.ts";

const SLOW_HEALTH =
  "require('http').createServer((q, s) => setTimeout(() => s.end('ok'), 1500)).listen(Number(process.env.PORT), '127.0.0.1')";

function fleetYaml(ports: number[]): string {
  const [hung, slow, late, idle, gateway, sim] = ports;
  const example = `[${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}]`;
  // The supervisor's own probes are rare here (interval 1m), so that it does not heal what the test breaks.
  const quiet = "interval: 1m, failures: 10";
  return `version: 1
stateDir: ./state
isolation: none
watchdog: { enabled: false, probeTimeout: 500ms, slowTimeout: 3s, probeSpacing: 30s, daemonGrace: 5s }
oversight: { every: 1s }
${simulatedGateway(gateway ?? 0, sim ?? 0)}agents:
  - { name: hung, command: ${example}, port: ${hung}, workspace: ./ws/hung, health: { http: /health, grace: 2s, timeout: 1s, ${quiet} }, restart: { policy: never } }
  - { name: slow, command: ${JSON.stringify(nodeScript(SLOW_HEALTH))}, port: ${slow}, workspace: ./ws/slow, health: { http: /health, grace: 2s, timeout: 3s, ${quiet} } }
  - { name: late, command: ${example}, port: ${late}, workspace: ./ws/late, env: { FLOTILLA_EXAMPLE_FAULT: "slow-start:120000" }, autostart: false, health: { http: /health, grace: 2m, timeout: 1s, ${quiet} } }
  - { name: idle, command: ${example}, port: ${idle}, workspace: ./ws/idle, autostart: false }
`;
}

const target = (targets: Target[], id: string): Target => {
  const found = targets.find((t) => t.id === id);
  assert.ok(found, `target ${id}`);
  return found;
};

test("probes of a real fleet: healthy, starting, stopped, slow, hung, gateway, provider, oversight, a killed daemon, a broken config", async (t) => {
  const ports = await freePorts(6);
  const { dir, file } = fleetDir(t, fleetYaml(ports));
  const env = { ...process.env, SIM_KEY: "sim-key" };
  const up = await runCli(["up", "--detach", "-c", file], { env });
  assert.equal(up.code, 0, up.stderr);
  const config = loadConfig(file).config;
  const stateDir = config.stateDir;
  // What the test leaves stopped or orphaned (it kills the daemon with -9) goes with it.
  let groups: number[] = [];
  t.after(() => {
    for (const pgid of groups) {
      signalGroup(pgid, "SIGCONT");
      signalGroup(pgid, "SIGKILL");
    }
  });
  let shift = 0;
  const ctx: ProbeContext = { config, configFile: file, now: () => Date.now() + shift };
  const targets = watchTargets(config);
  assert.deepEqual(
    targets.map((x) => x.id),
    [
      "daemon",
      "gateway",
      "agent:hung",
      "agent:slow",
      "agent:late",
      "agent:idle",
      "oversight",
      "config",
      "provider:sim",
    ],
  );
  const probe = (id: string, timeoutMs = 500) => probeTarget(target(targets, id), ctx, timeoutMs);
  const confirm = async (id: string) => {
    const first = await probe(id);
    return confirmDown(target(targets, id), ctx, first, { failures: 3, spacingMs: 100, slowTimeoutMs: 3000 });
  };

  await waitFor(
    async () => {
      const rows = await status(file);
      const up = (name: string) =>
        rows.find((r) => r.name === name && r.state === "running" && (r.uptimeSec ?? 0) >= 3);
      return up("hung") && up("slow") && up("gateway");
    },
    "hung, slow and the gateway running past their grace",
    30_000,
  );

  assert.equal((await probe("daemon")).state, "healthy");
  assert.equal((await probe("gateway")).state, "healthy");
  assert.equal((await probe("agent:hung")).state, "healthy");
  assert.equal((await probe("config")).state, "healthy");
  const provider = await probe("provider:sim");
  assert.deepEqual([provider.state, provider.detail], ["healthy", "no recent traffic"]);

  // Started by hand (up would wait out its grace): listening only after 2 minutes, inside its grace.
  assert.equal((await runCli(["start", "late", "-c", file])).code, 0);
  const late = await probe("agent:late");
  assert.equal(late.state, "starting", late.detail);
  const idle = await probe("agent:idle");
  assert.equal(idle.state, "stopped", idle.detail);
  // The operator stops a running agent: stopped, never down.
  assert.equal((await runCli(["stop", "hung", "-c", file])).code, 0);
  assert.equal((await probe("agent:hung")).state, "stopped");
  assert.equal((await runCli(["start", "hung", "-c", file])).code, 0);
  await waitFor(async () => {
    const row = (await status(file)).find((r) => r.name === "hung");
    return row?.state === "running" && (row.uptimeSec ?? 0) >= 3;
  }, "hung running again past its grace");

  // Slow: 1.5 s answers fail the 500 ms probes; the slowTimeout re-probe hears it.
  const slow = await confirm("agent:slow");
  assert.equal(slow.down, false);
  assert.deepEqual(
    slow.seen.map((p) => p.state),
    ["down", "down", "slow"],
  );

  // Oversight: fresh while its pass runs; an hour later (the context's clock) the heartbeat is stale.
  await waitFor(() => oversightHeartbeat(stateDir), "an oversight run", 20_000);
  assert.equal((await probe("oversight")).state, "healthy");
  shift = 3_600_000;
  const stale = await probe("oversight");
  assert.equal(stale.state, "down");
  assert.match(stale.detail, /^heartbeat 60m old$/);
  shift = 0;

  // A provider every recent request (over 2 × probeSpacing) to which failed (as the gateway records it) is down; one answer clears it.
  const ledger = openSqliteStore(join(stateDir, "ledger.db"));
  for (let i = 0; i < 3; i++)
    ledger.append({
      kind: "gateway.attempt_failed",
      data: { provider: "sim", model: "sim-small", reason: 500 },
    });
  ledger.flush();
  const outage = await probe("provider:sim");
  assert.deepEqual([outage.state, outage.detail], ["down", "3 failed, 0 answered in the last 60s"]);
  ledger.append({ kind: "gateway.request", agent: "hung", data: { provider: "sim", model: "sim-small" } });
  ledger.close();
  assert.equal((await probe("provider:sim")).state, "healthy");

  groups = (
    JSON.parse(readFileSync(join(stateDir, "run", "agents.json"), "utf8")) as Array<{ pgid: number }>
  ).map((r) => r.pgid);
  // Hung: SIGSTOP the agent; its three probes fail, the last with slowTimeout too.
  const rows = await status(file);
  const hungPid = rows.find((r) => r.name === "hung")?.pid ?? 0;
  signalGroup(readProc(hungPid)?.pgid ?? 0, "SIGSTOP");
  const hung = await confirm("agent:hung");
  assert.equal(hung.down, true);
  assert.deepEqual(
    hung.seen.map((p) => p.state),
    ["down", "down", "down"],
  );
  assert.match(hung.seen[2]?.detail ?? "", /health probe fails: no answer within 3000ms/);

  // The gateway stopped: down once past its start grace (the context's clock a minute on).
  const gatewayPid = rows.find((r) => r.name === "gateway")?.pid ?? 0;
  signalGroup(readProc(gatewayPid)?.pgid ?? 0, "SIGSTOP");
  // Inside its 30 s start grace (the context's clock 1 s after its process started): starting.
  const gatewayStart = processStartedAt(gatewayPid) ?? 0;
  shift = gatewayStart + 1000 - Date.now();
  const young = await probe("gateway");
  assert.equal(young.state, "starting", young.detail);
  assert.match(young.detail, /^started [12]s ago: no answer within 500ms$/);
  shift = 60_000;
  const gateway = await probe("gateway");
  assert.equal(gateway.state, "down", gateway.detail);
  shift = 0;

  // A hung daemon (SIGSTOP): its pid lives, its API does not answer; down once past daemonGrace (5 s here).
  const daemon = readDaemonInfo(stateDir);
  assert.ok(daemon);
  process.kill(daemon.pid, "SIGSTOP");
  try {
    shift = 10_000;
    const hungDaemon = await probe("daemon");
    assert.equal(hungDaemon.state, "down");
    assert.match(
      hungDaemon.detail,
      new RegExp(`^pid ${daemon.pid} does not answer: no answer within 500ms$`),
    );
    const agent = await probe("agent:slow");
    assert.deepEqual([agent.state, agent.detail], ["down", "daemon down (no answer within 500ms)"]);
  } finally {
    // Woken even when an assertion fails, so that the test's `flotilla down` is not left waiting on it.
    process.kill(daemon.pid, "SIGCONT");
    shift = 0;
  }

  // kill -9 the daemon: the daemon is down, and agents read "daemon down".
  process.kill(daemon.pid, "SIGKILL");
  await waitFor(() => !pidAlive(daemon.pid), "the daemon gone");
  const dead = await probe("daemon");
  assert.deepEqual([dead.state, dead.detail], ["down", "no daemon running"]);
  const orphan = await probe("agent:slow");
  assert.deepEqual([orphan.state, orphan.detail], ["down", "daemon down"]);

  // An invalid live config: down, with the first problem.
  writeFileSync(file, `${readFileSync(file, "utf8")}\nagents: [\n`);
  const broken = await probe("config");
  assert.equal(broken.state, "down");
  assert.match(broken.detail, /^line \d+/);
  assert.ok(dir);
});
