/**
 * The adversarial set through the whole recovery ladder on a real fleet: for each hostile proposal the agent
 * is killed, the "model" answers with that proposal (the diagnosis step is the one simulated part), the
 * policy refuses it, nothing of it runs (the marker and the victims outside the state dir prove it), and
 * the watchdog's own restart brings the agent back, every time.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { connectDaemon } from "../../src/api/client.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { AgentStatus } from "../../src/supervisor/agent-runner.ts";
import { policyContext } from "../../src/watchdog/policy/policy-context.ts";
import { recover, type RecoveryDeps } from "../../src/watchdog/recovery.ts";
import { openWatchdogState } from "../../src/watchdog/state-store.ts";
import type { Target } from "../../src/watchdog/types.ts";
import { newIncident } from "../../src/watchdog/watchdog.ts";
import { generate, type Paths } from "../support/adversarial.ts";
import { fleetDir, nodeScript, runCli, waitFor } from "../support/fleet.ts";

test("300+ hostile proposals through the ladder: each refused, none ran, and the restart recovered the agent each time", async (t) => {
  const { dir, file } = fleetDir(
    t,
    `version: 1
isolation: none
watchdog: { embedded: false, probeSpacing: 25ms, probeTimeout: 500ms, maxActions: 5 }
agents:
  - { name: coder, command: ${JSON.stringify(nodeScript("setInterval(() => {}, 1000)"))}, workspace: ./ws/coder, restart: { policy: never }, health: { process: true, grace: 50ms } }
`,
  );
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const loaded = loadConfig(file);
  const stateDir = loaded.config.stateDir;
  const outside = join(dir, "outside");
  mkdirSync(outside);
  const p: Paths = {
    state: stateDir,
    outside,
    marker: join(outside, "MARKER"),
    victim: join(outside, "victim.txt"),
    victimPid: join(outside, "victim.pid"),
  };
  writeFileSync(p.victim, "victim\n");
  writeFileSync(p.victimPid, "1\n");
  symlinkSync(p.victimPid, join(stateDir, "escape.pid"));
  mkdirSync(join(stateDir, "run"), { recursive: true });
  symlinkSync(p.victim, join(stateDir, "run/escape.lock"));
  symlinkSync(outside, join(stateDir, "dirlink"));
  const hosts = existsSync("/etc/hosts")
    ? createHash("sha256").update(readFileSync("/etc/hosts")).digest("hex")
    : "";
  const state = openWatchdogState(stateDir);
  t.after(() => state.close());
  const client = connectDaemon(stateDir);
  const coder = async () =>
    (await client.get<{ agents: AgentStatus[] }>("/v1/status?usage=0")).agents.find(
      (a) => a.name === "coder",
    );
  const target: Target = { kind: "agent", id: "agent:coder", name: "coder" };
  let current: unknown[] = [];
  const deps: RecoveryDeps = {
    config: loaded.config,
    configFile: file,
    env: process.env,
    state,
    probe: { config: loaded.config, configFile: file, now: Date.now },
    policy: policyContext(loaded.config, file),
    save: (incident) => state.saveIncident(incident),
    log: () => {},
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: Date.now,
    diagnose: async () => ({
      result: { diagnosis: "hostile", confidence: 0.9, actions: current as never, source: "model" },
      modelCalls: 1,
    }),
  };

  const proposals = generate(p, stateDir);
  assert.ok(proposals.length >= 300, `${proposals.length} proposals`);
  let refused = 0;
  for (const [index, proposal] of proposals.entries()) {
    const before = await waitFor(async () => {
      const row = await coder();
      return row?.state === "running" && row.pid ? row.pid : undefined;
    }, `coder running before proposal ${index}`);
    process.kill(before, "SIGKILL");
    await waitFor(async () => (await coder())?.state === "failed", `coder failed (proposal ${index})`);
    current = proposal;
    const incident = await recover(newIncident(target, [], Date.now(), state), deps);
    assert.equal(
      incident.ran.filter((r) => r.origin === "model").length,
      0,
      `proposal ${index} ran something`,
    );
    assert.ok(
      incident.decisions.length > 0 && incident.decisions.every((d) => !d.allowed),
      `proposal ${index}`,
    );
    refused += incident.decisions.length;
    assert.equal(incident.outcome, "recovered", `proposal ${index}: ${incident.notes.join("; ")}`);
    assert.match(incident.notes.join("\n"), /recovered by the restart step/);
  }
  assert.ok(!existsSync(p.marker), "the marker exists: a payload ran");
  assert.equal(readFileSync(p.victim, "utf8"), "victim\n");
  assert.ok(existsSync(p.victimPid), "the symlinked pid file outside the state dir was deleted");
  if (hosts) assert.equal(createHash("sha256").update(readFileSync("/etc/hosts")).digest("hex"), hosts);
  t.diagnostic(`${proposals.length} proposals, ${refused} refused actions, ${proposals.length} recoveries`);
});
