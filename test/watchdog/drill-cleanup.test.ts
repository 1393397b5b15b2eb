/**
 * A drill that is not healed (the watchdog ran once and died) ends at its timeout, or at Ctrl-C, and
 * leaves the fleet as it found it: the stopped agent runs again with the same pid, the config file holds
 * its old text, the simulator's fault is cleared. Real fleet, real CLI, the watchdog's real state file.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readProc } from "../../src/supervisor/process-tree.ts";
import { openWatchdogState } from "../../src/watchdog/state-store.ts";
import { BIN, NODE, status, waitFor } from "../support/fleet.ts";
import { fleetHealthy, runDrillCli, startDrillFleet } from "../support/drill-fleet.ts";

test("a drill cleans up after a timeout and after Ctrl-C", async (t) => {
  const fleet = await startDrillFleet(t);
  // A watchdog that finished one run just now and then died: drills may start, nothing heals.
  const state = openWatchdogState(fleet.stateDir);
  state.recordRun({ startedAt: Date.now(), finishedAt: Date.now(), probed: 0, down: 0, incidents: [] });
  state.close();

  await t.test("hang-agent times out and lets the stopped agent run again", async () => {
    const before = (await status(fleet.file)).find((r) => r.name === "hanger");
    const result = await runDrillCli(fleet, ["hang-agent", "--agent", "hanger", "--timeout", "2s"]);
    assert.equal(result.pass, false);
    assert.equal(result.timedOut, true);
    assert.match(result.reasons.join("; "), /not recovered within 2s \(--timeout\)/);
    assert.match(result.reasons.join("; "), /the watchdog never detected agent:hanger/);
    assert.notEqual(readProc(before?.pid ?? 0)?.state, "T", "no longer stopped");
    await fleetHealthy(fleet);
    assert.equal(
      (await status(fleet.file)).find((r) => r.name === "hanger")?.pid,
      before?.pid,
      "the same process",
    );
  });

  await t.test("provider-outage times out and clears the simulator's outage", async () => {
    const result = await runDrillCli(fleet, ["provider-outage", "--timeout", "2s"]);
    assert.equal(result.timedOut, true);
    assert.match(result.stderr, /provider sim: fault cleared/);
    const faults = await fetch(`http://127.0.0.1:${fleet.ports[1]}/_sim/faults`, {
      method: "POST",
      body: "{}",
    });
    assert.deepEqual(((await faults.json()) as { faults: { outages: unknown[] } }).faults.outages, []);
  });

  await t.test("corrupt-config interrupted with Ctrl-C writes the config back", async () => {
    await waitFor(
      () => existsSync(join(fleet.stateDir, "last-known-good.json")),
      "a last known good",
      20_000,
    );
    const original = readFileSync(fleet.file, "utf8");
    const child = spawn(
      NODE,
      [BIN, "drill", "corrupt-config", "--json", "--timeout", "1m", "-c", fleet.file],
      {
        env: fleet.env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await waitFor(() => /wrote invalid YAML/.test(stderr), "the injection", 20_000);
    assert.notEqual(readFileSync(fleet.file, "utf8"), original, "the config was corrupted");
    child.kill("SIGINT");
    assert.equal(await exited, 1);
    assert.equal(readFileSync(fleet.file, "utf8"), original, "the config is back");
    const result = JSON.parse(stdout) as { reasons: string[]; timedOut: boolean };
    assert.match(result.reasons.join("; "), /interrupted before the target recovered/);
    assert.match(stderr, /put the config back as it was before the drill/);
  });
});
