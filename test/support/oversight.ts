/** Test helpers for oversight checks: a check context over a loaded config, and a judge in front of the simulator through the real gateway. */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import type { FlotillaConfig } from "../../src/config/schema.ts";
import type { Store } from "../../src/ledger/store.ts";
import type { CheckContext } from "../../src/oversight/check.ts";
import type { SimOptionsInput } from "../../src/sim/options.ts";
import { createSimulator, type Simulator } from "../../src/sim/simulator.ts";
import type { AgentStatus } from "../../src/supervisor/agent-runner.ts";
import { FLEETS_DIR } from "./fleet.ts";
import { type RunningGateway, startGateway } from "./gateway.ts";

/** A temp folder for transcripts and workspaces, removed after the test. */
export function scratchDir(t: TestContext): string {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-oversight-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What a check gets from the runner, over `config` and `ledger`, with `status` rows as given. */
export function checkContext(
  config: FlotillaConfig,
  ledger: Pick<Store, "query">,
  status: Array<Pick<AgentStatus, "name" | "uptimeSec">> = [],
): CheckContext {
  return {
    config,
    ledger,
    sinceId: 0,
    lastRunAt: null,
    now: Date.now(),
    status: () => status as AgentStatus[],
  };
}

export interface JudgeRig {
  sim: Simulator;
  gw: RunningGateway;
  config: FlotillaConfig;
  /** The coordinator's transcript file (JSON lines). */
  transcript: string;
  append(...lines: unknown[]): void;
}

/**
 * The simulator (scripted) behind the real gateway, a fleet whose coordinator runs model `main` and
 * whose judge runs `judge` (another upstream model), and the coordinator's transcript file.
 */
export async function judgeRig(
  t: TestContext,
  sim: SimOptionsInput,
  oversight = "",
  extraAgents = "",
): Promise<JudgeRig> {
  const simulator = createSimulator({ keys: { "sim-key": {} }, ...sim });
  const url = await simulator.start();
  t.after(() => simulator.close());
  const dir = scratchDir(t);
  const transcript = join(dir, "coordinator.jsonl");
  appendFileSync(transcript, "");
  process.env.JUDGE_SIM_KEY = "sim-key";
  const gw = await startGateway(
    t,
    `version: 1
providers:
  - { id: sim, kind: openai, baseUrl: ${url}/v1, keys: [{ env: JUDGE_SIM_KEY }] }
models:
  main: [{ provider: sim, model: sim-large }]
  judge: [{ provider: sim, model: sim-small }]
agents:
  - { name: coordinator, role: coordinator, command: x, workspace: ${JSON.stringify(dir)}, model: main }
${extraAgents}oversight:
  model: judge
  transcripts: { coordinator: ${JSON.stringify(transcript)} }
${oversight}`,
  );
  const { config } = loadConfig(join(gw.dir, "flotilla.yaml"));
  return {
    sim: simulator,
    gw,
    config,
    transcript,
    append: (...lines) => {
      for (const line of lines)
        appendFileSync(transcript, `${typeof line === "string" ? line : JSON.stringify(line)}\n`);
    },
  };
}

/** A verdict as the judge would answer it. */
export function verdict(...findings: Array<Record<string, unknown>>): string {
  return JSON.stringify({ findings });
}

/**
 * An agent stuck on one tool call: the same conversation, ending in the same tool result, sent `times`
 * times through the real gateway at `gatewayPort` with the agent's key; each must be answered 200.
 */
export async function toolCallLoop(gatewayPort: number, agentKey: string, times: number): Promise<void> {
  const loop = {
    model: "main",
    messages: [
      { role: "user", content: "fix the build" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "run_tests", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "c1", content: "1 failing: test/build.test.ts" },
    ],
  };
  for (let i = 0; i < times; i++) {
    const res = await fetch(`http://127.0.0.1:${gatewayPort}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${agentKey}`, "content-type": "application/json" },
      body: JSON.stringify(loop),
    });
    assert.equal(res.status, 200, await res.text());
  }
}
