/** What an agent sees (only its own env) and what it leaves (log files, the ring behind `logs -n`). */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { BIN, fleetDir, NODE, runCli, status, waitFor } from "../support/fleet.ts";

const ENV_DUMPER =
  "require('fs').writeFileSync('env.json', JSON.stringify(process.env)); for (let i = 1; i <= 5; i++) console.log('line ' + i); console.error('oops'); setInterval(() => {}, 1e9)";

test("an agent's env holds its config env and Flotilla's variables, never the daemon's secrets", async (t) => {
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - name: dumper
    command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(ENV_DUMPER)}]
    workspace: ./ws/dumper
    env: { GREETING: hello, TOKEN: { env: DUMPER_TOKEN } }
    health: { process: true }
`,
  );
  const env = {
    ...process.env,
    OPENAI_API_KEY: "sk-daemon-secret-123",
    ANTHROPIC_API_KEY: "sk-ant-daemon-456",
    DUMPER_TOKEN: "given-token",
  };
  const upResult = await runCli(["up", "--detach", "-c", file], { env });
  assert.equal(upResult.code, 0, upResult.stderr);
  const envFile = join(dir, "ws/dumper/env.json");
  await waitFor(() => existsSync(envFile), "env.json");
  const agentEnv = JSON.parse(readFileSync(envFile, "utf8")) as Record<string, string>;
  assert.equal(agentEnv.GREETING, "hello");
  assert.equal(agentEnv.TOKEN, "given-token", "a secret reference resolves into the agent's env");
  assert.equal(agentEnv.FLOTILLA_AGENT_NAME, "dumper");
  assert.equal(agentEnv.FLOTILLA_WORKSPACE, join(dir, "ws/dumper"));
  assert.equal(agentEnv.OPENAI_API_KEY, undefined);
  assert.equal(agentEnv.ANTHROPIC_API_KEY, undefined);
  assert.equal(agentEnv.DUMPER_TOKEN, undefined);
  assert.ok(!JSON.stringify(agentEnv).includes("daemon-secret"));

  await waitFor(
    async () => (await runCli(["logs", "dumper", "-n", "2", "-c", file])).stdout.includes("oops"),
    "log lines",
  );
  const logs = await runCli(["logs", "dumper", "-n", "2", "--json", "-c", file]);
  const lines = (JSON.parse(logs.stdout) as { lines: Array<{ text: string; stream: string }> }).lines;
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map((l) => l.text).sort(), ["line 5", "oops"].sort());
  const logFile = readFileSync(join(dir, "state/logs/dumper.log"), "utf8");
  assert.match(logFile, /line 1\n/);
  assert.match(logFile, /\[flotilla\] started pid \d+/);
  const rows = await status(file);
  assert.equal(rows[0]?.state, "running");
  assert.equal(rows[0]?.health.ok, true);
});

test("logs -f streams new lines as the agent writes them", async (t) => {
  const ticker = "let i = 0; setInterval(() => console.log('tick ' + i++), 100)";
  const { file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n  - { name: ticker, command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(ticker)}], workspace: ./ws }\n`,
  );
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const follower = spawn(NODE, [BIN, "logs", "ticker", "-f", "-n", "1", "--json", "-c", file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => follower.kill("SIGKILL"));
  let out = "";
  follower.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const lines = await waitFor(() => {
    const parsed = out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { text: string })
      .filter((l) => l.text.startsWith("tick "));
    return parsed.length >= 4 ? parsed : undefined;
  }, "four followed lines");
  const ticks = lines.map((l) => Number(/tick (\d+)/.exec(l.text)?.[1]));
  assert.ok(
    ticks.every((n, i) => i === 0 || n === (ticks[i - 1] ?? 0) + 1),
    `lines arrive in order: ${ticks.join(",")}`,
  );
});
