/**
 * Drill benchmark: a fleet on short intervals (the drill fleet of the tests: watchdog every 2 s, probes
 * 300 ms apart, 3 failures before action) with the real `flotilla watchdog` loop as its own process; every
 * drill runs in turn through `flotilla drill NAME --json`, each `--repeats` times. Prints, per drill, the
 * median time to detect and to recover, actions, model calls per incident and escalations, and checks the
 * targets: detected within one interval + failuresBeforeAction × probeSpacing (plus the time the failure
 * itself needs to show, stated per drill), recovered within 60 s of detection, slow-start 0 actions.
 * Usage: npm run bench:drill [-- --repeats 3 --json]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readLastKnownGood } from "../../src/migrations/last-known-good.ts";
import type { DrillResult } from "../../src/watchdog/drills/drill.ts";
import {
  DRILL_SIM_KEY,
  DRILL_WATCHDOG,
  type DrillFleet,
  drillFleetYaml,
  fleetHealthy,
  runDrillCli,
  startWatchdog,
} from "../../test/support/drill-fleet.ts";
import { FLEETS_DIR, freePorts, runCli, waitFor } from "../../test/support/fleet.ts";

const { values } = parseArgs({
  options: { repeats: { type: "string", default: "3" }, json: { type: "boolean" } },
});
const REPEATS = Number(values.repeats);
const RECOVER_AFTER_DETECT_MS = 60_000; // target: recovered within this of detection
const SLOW_DELAY_MS = 5_000; // slow-start's stop, inside the slow agent's 10 s grace

// The fleet's own settings the detection targets add (see drillFleetYaml): a failure some drills need
// time to show at all, before any watchdog could see it.
const PROBE_TIMEOUT_MS = 1_000;
const SLOW_TIMEOUT_MS = 2_000;
const OVERSIGHT_EVERY_MS = 1_000;

interface Plan {
  drill: string;
  args: string[];
  /** Time the failure needs to be visible at all, and why. */
  shows: { ms: number; why: string };
}

const w = DRILL_WATCHDOG;
const PLANS: Plan[] = [
  { drill: "kill-agent", args: ["kill-agent"], shows: { ms: 0, why: "" } },
  {
    drill: "hang-agent",
    args: ["hang-agent", "--agent", "hanger"],
    shows: {
      ms: (w.failuresBeforeAction - 1) * PROBE_TIMEOUT_MS + SLOW_TIMEOUT_MS,
      why: "each probe of a hung agent waits out its timeout",
    },
  },
  {
    drill: "slow-start",
    args: ["slow-start", "--agent", "slow", "--delay", `${SLOW_DELAY_MS}ms`],
    shows: { ms: 0, why: "" },
  },
  { drill: "corrupt-config", args: ["corrupt-config"], shows: { ms: 0, why: "" } },
  {
    drill: "stop-oversight",
    args: ["stop-oversight"],
    shows: { ms: 2 * OVERSIGHT_EVERY_MS, why: "a heartbeat is stale after two oversight intervals" },
  },
  { drill: "provider-outage", args: ["provider-outage"], shows: { ms: 0, why: "" } },
  { drill: "kill-daemon", args: ["kill-daemon"], shows: { ms: 0, why: "" } },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const say = (line: string) => {
  if (!values.json) process.stderr.write(`${line}\n`);
};

async function benchOnce(dir: string): Promise<Map<string, DrillResult>> {
  const ports = await freePorts(5);
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, drillFleetYaml(ports));
  const fleet: DrillFleet = {
    dir,
    file,
    stateDir: join(dir, "state"),
    env: { ...process.env, SIM_KEY: DRILL_SIM_KEY },
    ports,
  };
  const up = await runCli(["up", "--detach", "-c", file], { env: fleet.env });
  if (up.code !== 0) throw new Error(`up: ${up.stderr}`);
  const results = new Map<string, DrillResult>();
  const watchdog = await startWatchdog(fleet);
  try {
    await fleetHealthy(fleet);
    for (const plan of PLANS) {
      await fleetHealthy(fleet, 60_000);
      if (plan.drill === "corrupt-config")
        await waitFor(() => readLastKnownGood(fleet.stateDir) !== undefined, "a last known good", 30_000);
      say(`  ${plan.drill}...`);
      const result = await runDrillCli(fleet, [...plan.args, "--timeout", "2m"]);
      results.set(plan.drill, result);
      say(`    ${result.pass ? "pass" : `FAIL: ${result.reasons.join("; ")}`}`);
    }
  } finally {
    await watchdog.stop();
    await runCli(["down", "-c", file], { env: fleet.env });
  }
  return results;
}

const runs: Array<Map<string, DrillResult>> = [];
for (let repeat = 0; repeat < REPEATS; repeat++) {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-bench-drill-"));
  try {
    say(`repeat ${repeat + 1}/${REPEATS}`);
    runs.push(await benchOnce(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = PLANS.map((plan) => {
  const results = runs.map((r) => r.get(plan.drill)).filter((r): r is DrillResult => r !== undefined);
  const detect = results.map((r) => r.detectMs ?? Number.NaN);
  const recover = results.map((r) => r.recoverMs ?? Number.NaN);
  const incidents = results.reduce((n, r) => n + r.incidents.length, 0);
  const modelCalls = results.reduce((n, r) => n + r.modelCalls, 0);
  const detectTarget = w.everyMs + w.failuresBeforeAction * w.probeSpacingMs + plan.shows.ms;
  const checks: string[] = [];
  if (plan.drill === "slow-start") {
    if (results.some((r) => r.actions > 0)) checks.push("actions > 0");
  } else {
    if (results.some((r) => r.detectMs === null || r.detectMs > detectTarget))
      checks.push(`detect > ${detectTarget} ms`);
    if (
      results.some(
        (r) =>
          r.detectMs === null || r.recoverMs === null || r.recoverMs - r.detectMs > RECOVER_AFTER_DETECT_MS,
      )
    )
      checks.push("recover > 60 s after detection");
  }
  if (results.some((r) => !r.pass)) checks.push("drill failed");
  return {
    drill: plan.drill,
    detectMs: detect,
    recoverMs: recover,
    detectMedianMs: median(detect),
    recoverMedianMs: median(recover),
    detectTargetMs: plan.drill === "slow-start" ? null : detectTarget,
    shows: plan.shows.why,
    actions: results.map((r) => r.actions),
    refused: results.map((r) => r.refused),
    modelCallsPerIncident: incidents === 0 ? 0 : Math.round((modelCalls / incidents) * 100) / 100,
    escalations: results.map((r) => r.escalations),
    meets: checks.length === 0,
    misses: checks,
  };
});

if (values.json) {
  process.stdout.write(`${JSON.stringify({ repeats: REPEATS, watchdog: w, rows }, null, 2)}\n`);
} else {
  const s = (ms: number) => (Number.isNaN(ms) ? "-" : `${(ms / 1000).toFixed(2)} s`);
  const each = (xs: number[]) => xs.map((ms) => (Number.isNaN(ms) ? "-" : (ms / 1000).toFixed(2))).join(", ");
  process.stdout.write(
    `watchdog every ${w.everyMs} ms, ${w.failuresBeforeAction} failures ${w.probeSpacingMs} ms apart; ${REPEATS} repeats, medians; Node ${process.version}\n`,
  );
  process.stdout.write(
    "drill            detect    (target)  recover   actions  model calls/incident  escalations  targets\n",
  );
  for (const r of rows)
    process.stdout.write(
      `${r.drill.padEnd(16)} ${s(r.detectMedianMs).padEnd(9)} ${(r.detectTargetMs === null ? "-" : s(r.detectTargetMs)).padEnd(9)} ${s(r.recoverMedianMs).padEnd(9)} ${r.actions.join("/").padEnd(8)} ${String(r.modelCallsPerIncident).padEnd(21)} ${r.escalations.join("/").padEnd(12)} ${r.meets ? "met" : `missed: ${r.misses.join(", ")}`}\n`,
    );
  process.stdout.write("each repeat (s): detect | recover\n");
  for (const r of rows)
    process.stdout.write(`${r.drill.padEnd(16)} ${each(r.detectMs)} | ${each(r.recoverMs)}\n`);
}
