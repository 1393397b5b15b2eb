/**
 * A real OpenClaw gateway under the supervisor, in its default sandbox: healthy on /health, answering a
 * dispatch through Flotilla's gateway, restarted after SIGKILL, stopped cleanly; exit 78 on a bad config.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import type { AgentConfig } from "../../src/config/schema.ts";
import { transcriptReader } from "../../src/oversight/transcripts/new-transcript.ts";
import { findByEnv } from "../../src/supervisor/process-tree.ts";
import { instanceId } from "../../src/supervisor/supervisor.ts";
import { fleetDir, freePorts, pidAlive, runCli, status, waitFor } from "../support/fleet.ts";
import { clawAgent, ensureOpenClaw, gatewayBlock, writeOpenClawHome } from "../support/openclaw.ts";

test(
  "a real OpenClaw gateway runs sandboxed: healthy, answers through Flotilla's gateway, restarted after SIGKILL, stopped with nothing left",
  {
    timeout: 900_000,
  },
  async (t) => {
    const entry = await ensureOpenClaw();
    const [port = 0, gateway = 0, sim = 0] = await freePorts(3);
    const { dir, file } = fleetDir(t, "");
    const home = join(dir, "claw-home");
    writeOpenClawHome(home, gateway);
    writeFileSync(
      file,
      `version: 1\nstateDir: ./state\n${gatewayBlock(gateway, sim)}agents:\n${clawAgent("claw", entry, port, home, "    restart: { delay: 1s, burst: 5/10m }\n    model: demo")}\n`,
    );
    const up = await runCli(["up", "--detach", "--json", "-c", file], {
      env: { ...process.env, SIM_KEY: "sim-key" },
    });
    assert.equal(up.code, 0, up.stderr);
    const first = await waitFor(
      async () =>
        (await status(file)).find((a) => a.name === "claw" && a.state === "running" && a.health.ok === true),
      "the gateway to answer /health",
      // OpenClaw takes 15-25 s alone, but one full-suite run on a loaded 2-core machine took over 180 s.
      300_000,
    );
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    // The startup brief, and the managed AGENTS.md block OpenClaw reads, were in place before it started.
    assert.match(readFileSync(join(home, "workspace", "FLOTILLA.md"), "utf8"), /^# Flotilla brief for claw/);
    assert.match(
      readFileSync(join(home, "workspace", "AGENTS.md"), "utf8"),
      /<!-- flotilla:begin -->\n[\s\S]*FLOTILLA\.md[\s\S]*<!-- flotilla:end -->/,
    );

    const rows = JSON.parse((await runCli(["status", "--json", "-c", file])).stdout) as {
      agents: Array<{ name: string; isolation: string }>;
    };
    assert.equal(rows.agents.find((a) => a.name === "claw")?.isolation, "sandbox");
    // A dispatch to OpenClaw: its model call goes through Flotilla's gateway with its virtual key.
    const answer = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: "Bearer test-gateway-token",
        "content-type": "application/json",
        "x-openclaw-session-key": "sandbox-check",
      },
      body: JSON.stringify({ model: "openclaw/default", messages: [{ role: "user", content: "ping" }] }),
    });
    const reply = await answer.text();
    assert.equal(answer.status, 200, reply);
    // The simulator's own words, through Flotilla's gateway, which recorded the call as claw's.
    const content = (JSON.parse(reply) as { choices: Array<{ message: { content: string } }> }).choices[0]
      ?.message.content;
    assert.match(
      content ?? "",
      /^(?:(?:the|fleet|runs|steady|agents|share|keys|fairly|and|nothing|is|lost) ?)+$/,
    );
    const events = await runCli([
      "events",
      "--agent",
      "claw",
      "--kind",
      "gateway.request",
      "--json",
      "-c",
      file,
    ]);
    assert.equal(events.code, 0, events.stderr);
    assert.ok(
      (JSON.parse(events.stdout) as { events: unknown[] }).events.length > 0,
      "the gateway recorded the model call under claw's virtual key",
    );
    // Oversight reads what OpenClaw wrote: its transcript store, found from the agent's env and --profile.
    const { config } = loadConfig(file);
    const claw = config.agents.find((a) => a.name === "claw") as AgentConfig;
    const transcript = await waitFor(() => {
      const window = transcriptReader(config, "integration").read(claw, 1 << 20);
      return window.text.includes("user: ping") ? window : undefined;
    }, "oversight to read the dispatch from OpenClaw's transcript store");
    assert.deepEqual(transcript.problems, []);
    assert.ok(transcript.text.includes(`assistant: ${content ?? ""}`), transcript.text);

    process.kill(first.pid ?? 0, "SIGKILL");
    const second = await waitFor(
      async () =>
        (await status(file)).find((a) => a.name === "claw" && a.state === "running" && a.pid !== first.pid),
      "the gateway to be healthy again after SIGKILL",
      300_000,
    );
    assert.equal(second.restarts, 1);
    assert.equal(pidAlive(first.pid ?? 0), false);

    const stop = await runCli(["stop", "claw", "-c", file]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(pidAlive(second.pid ?? 0), false);
    assert.deepEqual(
      findByEnv({ FLOTILLA_INSTANCE: instanceId(join(dir, "state")), FLOTILLA_AGENT_NAME: "claw" }),
      [],
      "no OpenClaw process is left",
    );
  },
);

test("OpenClaw exits 78 on a bad config and the supervisor records it", { timeout: 900_000 }, async (t) => {
  const entry = await ensureOpenClaw();
  const [port = 0] = await freePorts(1);
  const { dir, file } = fleetDir(t, "");
  const home = join(dir, "claw-home");
  writeOpenClawHome(home, 1, {
    gateway: { mode: "local", bind: "loopback", auth: { mode: "token" } },
    notAKey: { nonsense: true },
  });
  writeFileSync(
    file,
    `version: 1\nstateDir: ./state\nagents:\n${clawAgent("broken", entry, port, home, "    restart: { policy: never }")}\n`,
  );
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  const row = await waitFor(
    async () => (await status(file)).find((a) => a.state === "failed"),
    "the bad-config gateway to exit",
    120_000,
  );
  const full = (await runCli(["status", "--json", "-c", file])).stdout;
  const lastExit = (JSON.parse(full) as { agents: Array<{ lastExit: { code: number } }> }).agents[0]
    ?.lastExit;
  assert.equal(lastExit?.code, 78, `exit code ${lastExit?.code}`);
  assert.equal(row.pid, null);
});
