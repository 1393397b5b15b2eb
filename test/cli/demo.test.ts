/** `npm start` (flotilla demo) brings up the six seed roles on the example agent and stops them all on SIGTERM. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { portFree } from "../../src/supervisor/preflight.ts";
import { BIN, NODE, pidAlive } from "../support/fleet.ts";

interface DemoOutput {
  api: string;
  agents: Array<{ name: string; state: string; pid: number; port: number; health: { ok: boolean } }>;
}

test(
  "the demo runs six healthy agents in its own folder and SIGTERM stops every one",
  {
    timeout: 120_000,
  },
  async (t) => {
    const ports = [48391, 48392, 48393, 48394, 48395, 48396];
    const free = await Promise.all(ports.map(portFree));
    if (free.includes(false)) return t.skip("a demo port (48391-48396) is in use on this machine");
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
      ["coordinator", "coder", "reviewer", "deployer", "researcher", "qa"],
    );
    assert.ok(
      output.agents.every((a) => a.state === "running" && a.health.ok),
      JSON.stringify(output.agents),
    );
    assert.deepEqual(
      output.agents.map((a) => a.port),
      ports,
    );
    assert.ok(existsSync(join(dir, "demo/flotilla.yaml")));
    assert.ok(existsSync(join(dir, "demo/workspaces/coder")), "workspaces live inside the demo folder");
    assert.ok(existsSync(join(dir, "demo/.flotilla/ledger.db")), "state lives inside the demo folder");
    demo.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    for (const agent of output.agents) assert.equal(pidAlive(agent.pid), false, `${agent.name} still alive`);
  },
);
