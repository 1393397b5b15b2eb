/**
 * Oversight end to end in a real daemon: a crash loop found by a run becomes a critical finding, injected
 * into the coordinator (the example agent, through oversight.inject.url) and sent to a webhook that is
 * down. After a daemon restart with the receiver back, the queued alert arrives without another run; an
 * acknowledged finding is not injected again.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { startReceiver } from "../support/receiver.ts";
import { EXAMPLE_AGENT, fleetDir, freePorts, NODE, runCli, waitFor } from "../support/fleet.ts";
import type { StoredFinding } from "../../src/oversight/findings-store.ts";

const CRASH = `[${JSON.stringify(NODE)}, "-e", "process.exit(3)"]`;

test("a daemon's run injects a critical finding into the coordinator and delivers its alert after a restart", async (t) => {
  const [leadPort = 0, hookPort = 0] = await freePorts(2);
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
oversight: { every: 1h, inject: { url: "http://127.0.0.1:${leadPort}/v1/oversight" } }
alerts:
  - { id: ops, kind: webhook, url: { env: OPS_HOOK }, minSeverity: critical }
agents:
  - name: lead
    role: coordinator
    command: [${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}]
    port: ${leadPort}
    workspace: ./ws/lead
  - { name: flaky, command: ${CRASH}, workspace: ./ws/flaky, restart: { delay: 50ms, maxDelay: 100ms, burst: 3/1m } }
`,
  );
  const hookSecret = `http://127.0.0.1:${hookPort}/hook/T0KEN-in-the-url`;
  const env = { ...process.env, OPS_HOOK: hookSecret };
  const cli = async (args: string[]) => {
    const result = await runCli([...args, "-c", file], { env });
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const events = async (kind: string) =>
    (JSON.parse(await cli(["events", "--kind", kind, "--json"])) as { events: unknown[] }).events;

  await cli(["up", "--detach"]);
  await waitFor(async () => {
    const status = JSON.parse(await cli(["status", "--json"])) as {
      agents: Array<{ name: string; state: string }>;
    };
    const state = (name: string) => status.agents.find((a) => a.name === name)?.state;
    return state("flaky") === "failed" && state("lead") === "running";
  }, "flaky failed after its crash loop, lead running");
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${leadPort}/health`).catch(() => undefined))?.ok,
    "the example agent answers",
  );

  const run = JSON.parse(await cli(["oversight", "run", "--json"])) as { findings: StoredFinding[] };
  const crash = run.findings.find((f) => f.check === "liveness" && f.agent === "flaky");
  assert.equal(crash?.severity, "critical", JSON.stringify(run.findings));

  // Injected into the coordinator's session: the example agent logs it with the finding's id.
  const session = join(dir, "ws/lead/sessions/oversight.md");
  await waitFor(() => existsSync(session) && readFileSync(session, "utf8"), "the injected message");
  const injected = readFileSync(session, "utf8");
  assert.match(injected, new RegExp(`finding ${crash.id}\\b`));
  assert.match(injected, /Address this before any other work/);

  // The webhook is down: the alert waits in the queue, and nothing recorded holds its URL.
  await waitFor(async () => (await events("alert.failed")).length > 0, "a failed delivery recorded");
  assert.doesNotMatch(JSON.stringify(await events("alert")), /T0KEN-in-the-url/);

  await cli(["down"]);
  const hook = await startReceiver(t, undefined, hookPort);
  await cli(["up", "--detach"]);
  const delivered = await waitFor(
    () => hook.received.find((r) => JSON.stringify(r.json).includes(crash.id)),
    "the queued alert delivered after the restart",
    30_000,
  );
  assert.equal(delivered.path, "/hook/T0KEN-in-the-url");
  assert.match(JSON.stringify(delivered.json), /liveness/);

  // Acknowledged: the next run does not inject it again.
  await cli(["oversight", "ack", crash.id]);
  const before = readFileSync(session, "utf8").split(`finding ${crash.id}`).length;
  await cli(["oversight", "run"]);
  await waitFor(async () => (await events("oversight.run")).length >= 2, "the second run recorded");
  assert.equal(readFileSync(session, "utf8").split(`finding ${crash.id}`).length, before);
});
