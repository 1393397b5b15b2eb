/** Oversight reports the watchdog: its last run read from the watchdog's own state file, stale after two intervals. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { createWatchdogHeartbeatCheck } from "../../src/oversight/checks/watchdog-heartbeat.ts";
import { openWatchdogState } from "../../src/watchdog/state-store.ts";
import { checkContext, scratchDir } from "../support/oversight.ts";

const ledger = { query: () => [] };

test("a watchdog run older than two intervals, or none in that much uptime, is a critical finding; a fresh one is none", async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, "version: 1\nwatchdog: { every: 1m }\n");
  const { config } = loadConfig(file);
  const now = Date.now();
  const context = { ...checkContext(config, ledger), now };
  // No run yet: none expected in the first two intervals of the daemon's uptime, a finding after.
  assert.deepEqual(await createWatchdogHeartbeatCheck(now - 60_000).run(context), []);
  const never = await createWatchdogHeartbeatCheck(now - 3 * 60_000).run(context);
  assert.equal(never.length, 1);
  assert.equal(never[0]?.severity, "critical");
  assert.match(never[0]?.evidence ?? "", /no watchdog run recorded in 3m/);

  const state = openWatchdogState(config.stateDir);
  t.after(() => state.close());
  const check = createWatchdogHeartbeatCheck(now - 3_600_000);
  state.recordRun({ startedAt: now - 150_000, finishedAt: now - 150_000, probed: 4, down: 0, incidents: [] });
  const late = await check.run(context);
  assert.equal(late.length, 1, "150 s since the last run, two intervals are 120 s");
  assert.match(late[0]?.evidence ?? "", /last run finished 2m30s ago/);
  state.recordRun({ startedAt: now - 90_000, finishedAt: now - 90_000, probed: 4, down: 0, incidents: [] });
  assert.deepEqual(await check.run(context), [], "90 s is within two intervals of 1m");
  assert.equal(late[0]?.key, "stale");
});

test("a disabled watchdog is not reported", async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, "version: 1\nwatchdog: { enabled: false, every: 1m }\n");
  const { config } = loadConfig(file);
  assert.deepEqual(
    createWatchdogHeartbeatCheck(Date.now() - 3_600_000).run(checkContext(config, ledger)),
    [],
  );
});
