/**
 * With the daemon, the gateway and the model all down (kill -9 of the daemon and its gateway, the
 * simulator answering 503 to everything), the real watchdog loop still brings the fleet back: no
 * diagnosis, the deterministic path.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readDaemonInfo } from "../../src/api/daemon-files.ts";
import { signal, signalGroup } from "../../src/supervisor/process-tree.ts";
import { openWatchdogState } from "../../src/watchdog/state-store.ts";
import type { Incident } from "../../src/watchdog/types.ts";
import { status, waitFor } from "../support/fleet.ts";
import { fleetHealthy, startDrillFleet, startWatchdog } from "../support/drill-fleet.ts";

test("daemon, gateway and model down: the watchdog recovers the fleet without a model", async (t) => {
  const fleet = await startDrillFleet(t);
  const watchdog = await startWatchdog(fleet);
  try {
    const simPort = fleet.ports[1];
    const model = await fetch(`http://127.0.0.1:${simPort}/_sim/faults`, {
      method: "POST",
      body: JSON.stringify({ status: 503 }),
    });
    assert.equal(model.status, 200);
    const gateway = (await status(fleet.file)).find((r) => r.name === "gateway");
    const daemon = readDaemonInfo(fleet.stateDir);
    assert.ok(gateway?.pid && daemon, "a gateway and a daemon to kill");
    const at = Date.now();
    signal(daemon.pid, "SIGKILL");
    signalGroup(gateway.pid, "SIGKILL");

    const recovered = await waitFor(
      () => {
        const state = openWatchdogState(fleet.stateDir);
        try {
          return state
            .incidents({ limit: 50 })
            .find(
              (i: Incident) => i.target.id === "daemon" && i.detectedAt >= at && i.outcome === "recovered",
            );
        } finally {
          state.close();
        }
      },
      "the daemon incident recovered",
      90_000,
    ).catch((err: Error) => assert.fail(`${err.message}\nwatchdog output:\n${watchdog.output()}`));
    assert.notEqual(readDaemonInfo(fleet.stateDir)?.pid, daemon.pid, "a new daemon");
    await fleetHealthy(fleet);
    const row = (await status(fleet.file)).find((r) => r.name === "gateway");
    assert.notEqual(row?.pid, gateway.pid, "a new gateway");
    assert.equal(recovered.diagnosis, undefined, "no diagnosis: the model was down");
    assert.ok(recovered.noDiagnosis, "the incident says why there was none");
    // The model was asked (watchdog.model is set) and was down: not the no-model path.
    assert.doesNotMatch(recovered.noDiagnosis, /no watchdog\.model/);
    assert.match(recovered.noDiagnosis, /503|unavailable|failed/i, recovered.noDiagnosis);
    assert.ok(
      recovered.ran.some((r) => r.origin === "deterministic"),
      `the watchdog's own restart ran: ${JSON.stringify(recovered.ran)}`,
    );
  } finally {
    await watchdog.stop();
  }
});
