/**
 * `npm start` (flotilla demo) brings up the six seed roles on the example agent, the gateway and the provider
 * simulator; an agent's answer is thought through the gateway (the ledger shows the routed request); SIGTERM
 * stops every process.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connectDaemon } from "../../src/api/client.ts";
import type { LedgerEvent } from "../../src/ledger/store.ts";
import { portFree } from "../../src/supervisor/preflight.ts";
import { BIN, NODE, pidAlive, waitFor } from "../support/fleet.ts";

interface Completion {
  choices: Array<{ message: { content: string } }>;
  usage: { prompt_tokens: number; completion_tokens: number };
}

/** Asks an example agent (on its own port) for an answer, as a client of the fleet would. */
async function askAgent(port: number, task: string): Promise<Completion> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: task }] }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Completion;
}

interface DemoOutput {
  api: string;
  agents: Array<{ name: string; state: string; pid: number; port: number; health: { ok: boolean } }>;
}

test(
  "the demo runs six healthy agents thinking through the gateway to the simulator, in its own folder; SIGTERM stops every one",
  {
    timeout: 120_000,
  },
  async (t) => {
    const ports = [48391, 48392, 48393, 48394, 48395, 48396];
    const free = await Promise.all([48390, ...ports, 48397].map(portFree));
    if (free.includes(false)) return t.skip("a demo port (48390-48397) is in use on this machine");
    const dir = mkdtempSync(join(tmpdir(), "flotilla-demo-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const demo = spawn(NODE, [BIN, "demo", "--json", "--dir", join(dir, "demo")], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    demo.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    demo.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => demo.once("exit", (code) => resolve(code)));
    const output = await new Promise<DemoOutput>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no status from the demo: ${stderr}`)), 60_000);
      demo.stdout.on("data", () => {
        try {
          const parsed = JSON.parse(stdout) as DemoOutput;
          clearTimeout(timer);
          resolve(parsed);
        } catch {
          // not complete yet
        }
      });
    });
    assert.deepEqual(
      output.agents.map((a) => a.name),
      ["simulator", "gateway", "coordinator", "coder", "reviewer", "deployer", "researcher", "qa"],
    );
    assert.ok(
      output.agents.every((a) => a.state === "running" && a.health.ok),
      JSON.stringify(output.agents),
    );
    assert.deepEqual(
      output.agents.map((a) => a.port),
      [48397, 48390, ...ports],
    );

    // The coder thinks through the gateway: its answer is the simulator's, and the gateway's ledger entry for
    // the coder carries exactly the usage the agent reported. The coordinator's chain starts on the
    // Anthropic-format provider, so its OpenAI-format call is translated both ways.
    const coder = await askAgent(48392, "outline the release checklist");
    const coordinator = await askAgent(48391, "split the release into tasks");
    const answer = coder.choices[0]?.message.content ?? "";
    assert.ok(answer.length > 0 && !answer.startsWith("Done:"), `not the agent's offline answer: ${answer}`);
    const api = connectDaemon(join(dir, "demo/.flotilla"));
    const routed = async (agent: string) => {
      const { events } = await api.get<{ events: LedgerEvent[] }>(
        `/v1/events?kind=gateway.request&agent=${agent}`,
      );
      return events[0];
    };
    const coderRequest = await waitFor(() => routed("coder"), "the gateway's ledger entry for the coder");
    assert.deepEqual(
      {
        provider: coderRequest.data.provider,
        tier: coderRequest.data.tier,
        status: coderRequest.data.status,
        inputTokens: coderRequest.data.inputTokens,
        outputTokens: coderRequest.data.outputTokens,
      },
      {
        provider: "sim-openai",
        tier: "primary",
        status: 200,
        inputTokens: coder.usage.prompt_tokens,
        outputTokens: coder.usage.completion_tokens,
      },
    );
    const coordinatorRequest = await waitFor(() => routed("coordinator"), "the coordinator's ledger entry");
    assert.equal(coordinatorRequest.data.provider, "sim-anthropic");
    assert.equal(coordinatorRequest.data.outputTokens, coordinator.usage.completion_tokens);
    assert.ok(existsSync(join(dir, "demo/sim.key")), "the providers' key file sits beside the config");
    assert.ok(existsSync(join(dir, "demo/flotilla.yaml")));
    assert.ok(existsSync(join(dir, "demo/workspaces/coder")), "workspaces live inside the demo folder");
    assert.ok(existsSync(join(dir, "demo/.flotilla/ledger.db")), "state lives inside the demo folder");
    demo.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    for (const agent of output.agents) assert.equal(pidAlive(agent.pid), false, `${agent.name} still alive`);
  },
);
