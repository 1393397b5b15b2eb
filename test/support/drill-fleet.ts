/**
 * A fleet for drills: three example agents (coder: restart policy never, for kill-agent; hanger: the
 * supervisor probes it once a minute, so the watchdog heals a hang first; slow: a 10 s grace, for
 * slow-start), the simulator behind the gateway, oversight every second, last known good after 1 s, and
 * the watchdog on short intervals with its model (`diag`) on the simulator, scripted to answer with a JSON
 * diagnosis. The watchdog runs as its own process (`flotilla watchdog`), started by the test.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { BIN, EXAMPLE_AGENT, fleetDir, freePorts, NODE, runCli, simulatedGateway, waitFor } from "./fleet.ts";
import type { DrillResult } from "../../src/watchdog/drills/drill.ts";
import { readWatchdogHeartbeat } from "../../src/watchdog/state-store.ts";

/** The watchdog settings of every drill fleet. */
export const DRILL_WATCHDOG = {
  everyMs: 2_000,
  probeSpacingMs: 300,
  failuresBeforeAction: 3,
};

/** The model's scripted answer: a diagnosis with no action, so the watchdog's own restart heals. */
export const PLAIN_DIAGNOSIS = JSON.stringify({
  diagnosis: "the target stopped answering its probe; a restart should bring it back",
  confidence: 0.6,
  actions: [],
});

/**
 * The provider key (SIM_KEY): a value written nowhere in the config. Were it the simulator's listed
 * `sim-key`, every backup would redact that literal as a secret and the watchdog would refuse to restore
 * a last known good holding the placeholder.
 */
export const DRILL_SIM_KEY = "drill-upstream-key-0123456789";

export interface DrillFleetOptions {
  /** The simulator's scripted answers (default: PLAIN_DIAGNOSIS for every request). */
  script?: unknown[];
}

function agent(name: string, port: number, extra: string): string {
  return `  - { name: ${name}, command: [${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}], port: ${port}, workspace: ./ws/${name}, stopTimeout: 1s, ${extra} }`;
}

/** The drill fleet's YAML. */
export function drillFleetYaml(ports: number[], options: DrillFleetOptions = {}): string {
  const [gateway = 0, sim = 0, coder = 0, hanger = 0, slow = 0] = ports;
  const script = options.script ?? [{ reply: PLAIN_DIAGNOSIS }];
  const w = DRILL_WATCHDOG;
  return `version: 1
stateDir: ./state
migrations: { lastKnownGoodAfter: 1s }
oversight: { every: 1s }
watchdog: { embedded: false, every: ${w.everyMs}ms, probeSpacing: ${w.probeSpacingMs}ms, failuresBeforeAction: ${w.failuresBeforeAction}, probeTimeout: 1s, slowTimeout: 2s, daemonGrace: 20s, maxActionsPerHour: 20, model: diag, diagnosisTimeout: 5s, actionTimeout: 30s }
${simulatedGateway(gateway, sim, "SIM_KEY", { script, models: { diag: "sim-large" }, acceptAnyKey: true })}agents:
${agent("coder", coder, "health: { http: /health, interval: 200ms, grace: 5s }, restart: { policy: never }")}
${agent("hanger", hanger, "health: { http: /health, interval: 1m, grace: 5s }")}
${agent("slow", slow, "health: { http: /health, interval: 200ms, grace: 10s }")}
`;
}

export interface DrillFleet {
  dir: string;
  file: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  ports: number[];
}

/** Writes the drill fleet and starts it (`up --detach`); `flotilla down` runs after the test. */
export async function startDrillFleet(t: TestContext, options: DrillFleetOptions = {}): Promise<DrillFleet> {
  const ports = await freePorts(5);
  const { dir, file } = fleetDir(t, drillFleetYaml(ports, options));
  const env = { ...process.env, SIM_KEY: DRILL_SIM_KEY };
  const up = await runCli(["up", "--detach", "-c", file], { env });
  if (up.code !== 0) throw new Error(`up failed: ${up.stderr}`);
  const fleet = { dir, file, stateDir: join(dir, "state"), env, ports };
  await fleetHealthy(fleet);
  return fleet;
}

/** Every agent (and Flotilla's own processes) running with a passing probe. */
export function fleetHealthy(fleet: DrillFleet, timeoutMs = 30_000): Promise<true> {
  return waitFor(
    async () => {
      const result = await runCli(["status", "--json", "-c", fleet.file], { env: fleet.env });
      if (result.code !== 0) return false;
      const rows = (
        JSON.parse(result.stdout) as { agents: Array<{ state: string; health: { ok: boolean | null } }> }
      ).agents;
      return rows.length > 0 && rows.every((r) => r.state === "running" && r.health.ok !== false);
    },
    "the drill fleet healthy",
    timeoutMs,
  );
}

export interface WatchdogProcess {
  child: ChildProcess;
  /** Everything it printed, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the real `flotilla watchdog` loop as its own process and waits for its first finished run.
 * Call stop() in the test body (a finally) before the fleet's `down`, or it would bring the fleet back.
 */
export async function startWatchdog(fleet: DrillFleet): Promise<WatchdogProcess> {
  const child = spawn(NODE, [BIN, "watchdog", "-c", fleet.file], {
    env: fleet.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const watchdog: WatchdogProcess = {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await waitFor(
      () =>
        existsSync(join(fleet.stateDir, "watchdog.db")) &&
        readWatchdogHeartbeat(fleet.stateDir) !== undefined,
      "the watchdog's first run",
      30_000,
    );
  } catch (err) {
    await watchdog.stop();
    throw new Error(`${(err as Error).message}; watchdog output:\n${output}`, { cause: err });
  }
  return watchdog;
}

/** `flotilla drill ARGS --json -c FILE`: the result, or a thrown error with the drill's stderr. */
export async function runDrillCli(
  fleet: DrillFleet,
  args: string[],
): Promise<DrillResult & { stderr: string }> {
  const result = await runCli(["drill", ...args, "--json", "-c", fleet.file], { env: fleet.env });
  if (!result.stdout.trim())
    throw new Error(`drill ${args.join(" ")} printed nothing (exit ${result.code}): ${result.stderr}`);
  return { ...(JSON.parse(result.stdout) as DrillResult), stderr: result.stderr };
}
