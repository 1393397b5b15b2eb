/** The watchdog's state file: runs and the heartbeat, actions per hour, halts lifted by acknowledgement, the diagnosis cache, incidents. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openWatchdogState, readWatchdogHeartbeat } from "../../src/watchdog/state-store.ts";
import type { Diagnosis } from "../../src/watchdog/types.ts";
import { incident } from "../support/incidents.ts";
import { NODE, ROOT } from "../support/fleet.ts";

function stateDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-wd-state-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("runs: the last one is the heartbeat, read by another process while the writer holds the file open", (t) => {
  const dir = stateDir(t);
  assert.equal(readWatchdogHeartbeat(dir), undefined, "no file, no heartbeat");
  const state = openWatchdogState(dir);
  t.after(() => state.close());
  assert.equal(state.lastRun(), undefined);
  assert.equal(readWatchdogHeartbeat(dir), undefined, "a file without runs");
  state.recordRun({ startedAt: 1000, finishedAt: 2000, probed: 5, down: 0, incidents: [] });
  const last = { startedAt: 3000, finishedAt: 4500, probed: 6, down: 1, incidents: ["inc-1"] };
  state.recordRun(last);
  assert.deepEqual(state.lastRun(), last);
  const reader = spawnSync(
    NODE,
    [
      "--input-type=module",
      "-e",
      `import { readWatchdogHeartbeat } from ${JSON.stringify(join(ROOT, "src/watchdog/state-store.ts"))};
       process.stdout.write(JSON.stringify(readWatchdogHeartbeat(${JSON.stringify(dir)})));`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(reader.status, 0, reader.stderr);
  assert.deepEqual(JSON.parse(reader.stdout), last);
});

test("actions are counted per target and window; a halt holds until an incident of its target is acknowledged", (t) => {
  const state = openWatchdogState(stateDir(t));
  t.after(() => state.close());
  const hour = 3_600_000;
  const now = 10 * hour;
  state.recordAction("agent:coder", now - hour - 1);
  state.recordAction("agent:coder", now - 10_000);
  state.recordAction("agent:coder", now - 5_000);
  state.recordAction("daemon", now - 5_000);
  assert.equal(state.actionsSince("agent:coder", now - hour), 2);
  assert.equal(state.actionsSince("daemon", now - hour), 1);
  assert.equal(state.actionsSince("gateway", now - hour), 0);

  state.saveIncident(incident("inc-a", now - 1000, { outcome: "escalated", escalatedAt: now }));
  assert.equal(state.halted("agent:coder"), undefined);
  state.halt("agent:coder", "inc-a", now);
  assert.deepEqual(state.halted("agent:coder"), { incidentId: "inc-a", at: now });
  assert.equal(state.halted("daemon"), undefined);
  assert.equal(state.acknowledge("inc-missing", now), undefined);
  const acked = state.acknowledge("inc-a", now + 60_000);
  assert.equal(acked?.acknowledgedAt, now + 60_000);
  assert.equal(state.halted("agent:coder"), undefined, "the acknowledgement lifts the halt");
  assert.equal(state.acknowledge("inc-a", now + 120_000)?.acknowledgedAt, now + 60_000, "acknowledged once");
});

test("the diagnosis cache answers within its window only; a newer put replaces the answer", (t) => {
  const state = openWatchdogState(stateDir(t));
  t.after(() => state.close());
  const first: Diagnosis = {
    diagnosis: "port taken",
    confidence: 0.8,
    actions: [{ argv: ["flotilla", "restart", "coder"] }],
    source: "model",
    model: "sim/sim-small",
  };
  state.diagnoses.put("fp-1", first, 1000);
  assert.deepEqual(state.diagnoses.get("fp-1", 1000), first);
  assert.equal(state.diagnoses.get("fp-1", 1001), undefined, "older than notBefore");
  assert.equal(state.diagnoses.get("fp-2", 0), undefined);
  const second = { ...first, diagnosis: "out of memory" };
  state.diagnoses.put("fp-1", second, 5000);
  assert.deepEqual(state.diagnoses.get("fp-1", 2000), second);
});

test("incidents: saved and updated by id, newest first, the open ones, a limit", (t) => {
  const state = openWatchdogState(stateDir(t));
  t.after(() => state.close());
  state.saveIncident(
    incident("inc-old", 1000, { outcome: "recovered", recoveredAt: 2000, timeToRecoverMs: 1000 }),
  );
  state.saveIncident(incident("inc-mid", 2000));
  state.saveIncident(incident("inc-new", 3000, { outcome: "escalated", escalatedAt: 3500 }));
  assert.deepEqual(
    state.incidents().map((i) => i.id),
    ["inc-new", "inc-mid", "inc-old"],
  );
  assert.deepEqual(
    state.incidents({ open: true }).map((i) => i.id),
    ["inc-new", "inc-mid"],
  );
  assert.deepEqual(
    state.incidents({ limit: 1 }).map((i) => i.id),
    ["inc-new"],
  );
  state.saveIncident(
    incident("inc-mid", 2000, { outcome: "recovered", recoveredAt: 2500, timeToRecoverMs: 500 }),
  );
  assert.equal(state.incident("inc-mid")?.outcome, "recovered");
  assert.equal(state.incidents().length, 3, "an update, not a second row");
  state.acknowledge("inc-new", 4000);
  assert.deepEqual(state.incidents({ open: true }), []);
  assert.equal(state.incident("nope"), undefined);
});
