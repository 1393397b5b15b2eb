/** The health gate commits only agents that stay running, without a restart, for the whole of healthyFor. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { test } from "node:test";
import { healthGate } from "../../src/migrations/health-gate.ts";
import type { AgentStatus } from "../../src/supervisor/agent-runner.ts";

/** A real process as the gate sees an agent: running while it lives, failed once it exited. */
function statusOf(name: string, child: ChildProcess): () => AgentStatus {
  return () => {
    const exited = child.exitCode !== null || child.signalCode !== null;
    return {
      name,
      state: exited ? "failed" : "running",
      pid: exited ? null : (child.pid ?? null),
      port: null,
      uptimeSec: null,
      restarts: 0,
      health: { ok: exited ? null : true, latencyMs: null },
      lastExit: exited ? { code: child.exitCode, signal: child.signalCode, at: Date.now() } : null,
      retryAt: null,
      limits: { applied: [], warnings: [] },
      isolation: "none",
    };
  };
}

function run(t: { after: (fn: () => void) => void }, code: string): ChildProcess {
  const child = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
  t.after(() => child.kill("SIGKILL"));
  return child;
}

test("an agent healthy for 800 ms that then exits is not committed when healthyFor is 2 s", async (t) => {
  const child = run(t, "setTimeout(() => process.exit(1), 800)");
  await new Promise((resolve) => child.once("spawn", resolve));
  const started = Date.now();
  const failed = await healthGate({
    names: ["brief"],
    status: statusOf("brief", child),
    timeout: 10_000,
    healthyFor: 2000,
    pollMs: 20,
  });
  assert.equal(failed.length, 1, "the gate passed an agent that was running for only 800 ms");
  assert.equal(failed[0]?.name, "brief");
  assert.match(failed[0]?.reason ?? "", /state failed, last exit code=1/);
  assert.ok(Date.now() - started >= 700, "it failed when the agent exited, not before");
});

test("an agent that stays up for healthyFor is committed, and not before", async (t) => {
  const child = run(t, "setInterval(() => {}, 1e9)");
  await new Promise((resolve) => child.once("spawn", resolve));
  const started = Date.now();
  const failed = await healthGate({
    names: ["steady"],
    status: statusOf("steady", child),
    timeout: 10_000,
    healthyFor: 500,
    pollMs: 20,
  });
  assert.deepEqual(failed, []);
  assert.ok(Date.now() - started >= 500, "committed only after healthyFor");
});
