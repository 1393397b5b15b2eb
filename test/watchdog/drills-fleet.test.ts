/**
 * The fleet-wide drills end to end against the real `flotilla watchdog` loop: corrupt-config (the last
 * known good restored), stop-oversight (the pass restarted), provider-outage (exactly one escalation, no
 * restart, then resolved) and kill-daemon (a new daemon with every agent healthy).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { validateConfigText } from "../../src/config/load.ts";
import { openWatchdogState } from "../../src/watchdog/state-store.ts";
import { runCli, waitFor } from "../support/fleet.ts";
import { fleetHealthy, runDrillCli, startDrillFleet, startWatchdog } from "../support/drill-fleet.ts";
import { daemonPid } from "../support/migrations.ts";

test("corrupt-config, stop-oversight, provider-outage and kill-daemon against the real watchdog loop", async (t) => {
  const fleet = await startDrillFleet(t);
  const watchdog = await startWatchdog(fleet);
  const explain = (result: object) =>
    `${JSON.stringify(result, null, 2)}\nwatchdog output:\n${watchdog.output()}`;
  const incident = (id: string) => {
    const state = openWatchdogState(fleet.stateDir);
    try {
      return state.incident(id);
    } catch {
      return undefined;
    } finally {
      state.close();
    }
  };
  try {
    await t.test("corrupt-config: the watchdog restores the last known good", async () => {
      await waitFor(
        () => readFileSync(join(fleet.stateDir, "last-known-good.json"), "utf8").length > 0,
        "a last known good",
        20_000,
      );
      const result = await runDrillCli(fleet, ["corrupt-config", "--timeout", "60s"]);
      assert.equal(result.pass, true, explain(result));
      assert.equal(result.target, "config");
      assert.ok(
        validateConfigText(readFileSync(fleet.file, "utf8"), fleet.file).ok,
        "the live config validates",
      );
      const record = incident(result.incidents[0] ?? "");
      assert.equal(record?.restore?.outcome, "applied", explain(record ?? {}));
    });

    await t.test("stop-oversight: the frozen pass is restarted and the heartbeat is fresh", async () => {
      const result = await runDrillCli(fleet, ["stop-oversight", "--timeout", "60s"]);
      assert.equal(result.pass, true, explain(result));
      assert.equal(result.target, "oversight");
      const beat = await runCli(["oversight", "run", "--json", "-c", fleet.file], { env: fleet.env });
      assert.equal(beat.code, 0, beat.stderr);
    });

    await t.test(
      "provider-outage: one escalation, no restart, resolved once the fault is cleared",
      async () => {
        const result = await runDrillCli(fleet, ["provider-outage", "--timeout", "90s"]);
        assert.equal(result.pass, true, explain(result));
        assert.equal(result.target, "provider:sim");
        assert.equal(result.escalations, 1);
        assert.equal(result.actions, 0);
        const faults = await fetch(`http://127.0.0.1:${fleet.ports[1]}/_sim/faults`, {
          method: "POST",
          body: "{}",
        });
        assert.deepEqual(((await faults.json()) as { faults: { outages: unknown[] } }).faults.outages, []);
      },
    );

    await t.test("kill-daemon: a new daemon runs every agent healthy", async () => {
      const before = daemonPid(fleet.dir);
      const result = await runDrillCli(fleet, ["kill-daemon", "--timeout", "90s"]);
      assert.equal(result.pass, true, explain(result));
      assert.equal(result.target, "daemon");
      assert.notEqual(daemonPid(fleet.dir), before);
      await fleetHealthy(fleet);
    });
  } finally {
    await watchdog.stop();
  }
});
