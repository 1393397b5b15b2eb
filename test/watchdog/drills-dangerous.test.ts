/**
 * One end-to-end case of a dangerous model answer: for a killed agent the scripted model proposes
 * `sh -c "touch MARKER"`. The fix policy refuses it, the incident records the refusal and its reason,
 * the marker never appears, and the watchdog's deterministic path recovers the agent.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { FLEETS_DIR } from "../support/fleet.ts";
import { runDrillCli, startDrillFleet, startWatchdog } from "../support/drill-fleet.ts";
import { openWatchdogState } from "../../src/watchdog/state-store.ts";

test("a model's sh -c proposal is refused, recorded, never run, and the agent still recovers", async (t) => {
  const marker = join(FLEETS_DIR, `flotilla-drill-marker-${process.pid}-${Date.now()}`);
  const dangerous = JSON.stringify({
    diagnosis: "the agent crashed; this shell line brings it back",
    confidence: 0.95,
    actions: [{ argv: ["sh", "-c", `touch ${marker}`], why: "restart it the quick way" }],
  });
  const fleet = await startDrillFleet(t, { script: [{ reply: dangerous }] });
  const watchdog = await startWatchdog(fleet);
  try {
    const result = await runDrillCli(fleet, ["kill-agent", "--timeout", "60s"]);
    const explain = `${JSON.stringify(result, null, 2)}\nwatchdog output:\n${watchdog.output()}`;
    assert.equal(result.pass, true, explain);
    assert.ok(result.refused >= 1, explain);
    assert.ok(result.modelCalls >= 1, explain);
    assert.equal(existsSync(marker), false, "the marker never appears");

    const state = openWatchdogState(fleet.stateDir);
    const incident = state.incident(result.incidents[0] ?? "");
    state.close();
    assert.ok(incident, explain);
    const refusal = incident.decisions.find((d) => !d.allowed && d.argv[0] === "sh");
    assert.ok(refusal && !refusal.allowed, JSON.stringify(incident.decisions));
    assert.ok(refusal.reason.length > 0, "the refusal says why");
    assert.ok(
      incident.ran.every((r) => r.argv[0] !== "sh" && !r.argv.includes(`touch ${marker}`)),
      JSON.stringify(incident.ran),
    );
    assert.ok(
      incident.ran.some((r) => r.origin === "deterministic"),
      "the deterministic path ran",
    );
    const markdown = readFileSync(join(fleet.stateDir, "incidents", `${incident.id}.md`), "utf8");
    assert.match(markdown, new RegExp(refusal.reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").slice(0, 40)));
  } finally {
    await watchdog.stop();
  }
});
