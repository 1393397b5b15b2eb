/**
 * Oversight through the real CLI and daemon: a crash loop, a hand edit of the config and a tool-call loop
 * through the real gateway in front of the simulator are each caught by one run, with their evidence;
 * findings are listed, acknowledged by the operator and by the agent itself (never another's), and a
 * finding's drafted penalty is accepted.
 */
import assert from "node:assert/strict";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fleetDir, freePorts, NODE, runCli, simulatedGateway, waitFor } from "../support/fleet.ts";
import { toolCallLoop } from "../support/oversight.ts";
import type { StoredFinding } from "../../src/oversight/findings-store.ts";

const IDLE = `[${JSON.stringify(NODE)}, "-e", "setInterval(() => {}, 1e9)"]`;
const CRASH = `[${JSON.stringify(NODE)}, "-e", "process.exit(3)"]`;

async function json<T>(args: string[]): Promise<T> {
  const result = await runCli([...args, "--json"]);
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

test("one oversight run catches a crash loop, a hand edit and a tool-call loop; ack and penalties work", async (t) => {
  const [gatewayPort = 0, simPort = 0] = await freePorts(2);
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
drift: { every: 200ms }
oversight: { every: 1h, thresholds: { repeatedRequests: 20 } }
${simulatedGateway(gatewayPort, simPort)}agents:
  - { name: coder, model: main, command: ${IDLE}, workspace: ./ws/coder }
  - { name: reviewer, model: main, command: ${IDLE}, workspace: ./ws/reviewer }
  - { name: flaky, command: ${CRASH}, workspace: ./ws/flaky, restart: { delay: 50ms, maxDelay: 100ms, burst: 3/1m } }
`,
  );
  const env = { ...process.env, SIM_KEY: "sim-key" };
  const up = await runCli(["up", "--detach", "-c", file], { env });
  assert.equal(up.code, 0, up.stderr);
  await waitFor(
    async () => {
      const rows = (await json<{ agents: Array<{ name: string; state: string }> }>(["status", "-c", file]))
        .agents;
      return (
        rows.find((r) => r.name === "flaky")?.state === "failed" &&
        rows.every((r) => r.name === "flaky" || r.state === "running")
      );
    },
    "flaky failed after its crash loop and the rest running",
    30_000,
  );

  // A hand edit of the managed config file, seen by the drift watch.
  appendFileSync(file, "# tuned by hand\n");
  await waitFor(async () => {
    const events = await json<{ events: unknown[] }>(["events", "--kind", "config.drift", "-c", file]);
    return events.events.length > 0;
  }, "the drift event");

  // The coder stuck on one tool call: the same last message 25 times through the real gateway.
  const coderKey = (await runCli(["key", "show", "coder", "-c", file])).stdout.trim();
  await toolCallLoop(gatewayPort, coderKey, 25);
  await waitFor(async () => {
    const events = await json<{ events: unknown[] }>([
      "events",
      "--kind",
      "gateway.request",
      "-n",
      "100",
      "-c",
      file,
    ]);
    return events.events.length >= 25;
  }, "25 gateway.request events");

  const result = await json<{
    run: { id: number; outcome: string; counts: Record<string, number>; findings: string[] };
    findings: StoredFinding[];
    durationMs: number;
  }>(["oversight", "run", "-c", file]);
  assert.equal(result.run.outcome, "ok");
  const crash = result.findings.find(
    (f) => f.check === "liveness" && f.agent === "flaky" && /crash loop/.test(f.evidence),
  );
  assert.ok(crash, `a crash-loop finding: ${JSON.stringify(result.findings)}`);
  assert.equal(crash.severity, "critical");
  assert.match(crash.evidence, /ledger event #\d+ agent\.failed/);
  const drift = result.findings.find((f) => f.check === "config-drift");
  assert.ok(drift, "a config-drift finding");
  assert.match(drift.evidence, /ledger event #\d+ config\.drift: .*flotilla\.yaml was edited by hand/);
  assert.match(drift.evidence, /tuned by hand/);
  const loopFinding = result.findings.find((f) => f.check === "runaway" && f.agent === "coder");
  assert.ok(loopFinding, "a runaway finding for the coder");
  assert.equal(loopFinding.severity, "critical");
  assert.match(
    loopFinding.evidence,
    /^2[5-9] requests by coder with the same last message \(fingerprint [0-9a-f]{16}\)/,
  );
  assert.equal(loopFinding.article, "I");
  assert.ok(loopFinding.penalty, "the loop finding drafts a penalty");
  assert.match(loopFinding.penalty.why, /Article I: Quality comes before speed|Article I/);
  // The ledger gets counts only, never evidence.
  const runEvents = await json<{ events: Array<{ data: Record<string, unknown> }> }>([
    "events",
    "--kind",
    "oversight.run",
    "-c",
    file,
  ]);
  assert.equal(runEvents.events.length, 1);
  assert.ok(!JSON.stringify(runEvents.events[0]).includes("fingerprint"), "no evidence in the ledger");

  // A second run finds the same incidents: the same findings, not new ones.
  const again = await json<{ findings: StoredFinding[] }>(["oversight", "run", "-c", file]);
  assert.ok(again.findings.some((f) => f.id === crash.id));
  assert.ok(again.findings.some((f) => f.id === drift.id));
  // The loop stopped (no new requests since the last run): its finding resolved.
  const listed = await json<{ findings: StoredFinding[] }>([
    "oversight",
    "findings",
    "--state",
    "all",
    "-c",
    file,
  ]);
  assert.equal(listed.findings.find((f) => f.id === loopFinding.id)?.state, "resolved");
  const coderOnly = await json<{ findings: StoredFinding[] }>([
    "oversight",
    "findings",
    "--agent",
    "flaky",
    "-c",
    file,
  ]);
  assert.ok(coderOnly.findings.length > 0 && coderOnly.findings.every((f) => f.agent === "flaky"));

  // Acknowledged by the operator through the CLI.
  const acked = await json<{ finding: StoredFinding }>(["oversight", "ack", drift.id, "-c", file]);
  assert.equal(acked.finding.state, "acknowledged");
  const stillAcked = await json<{ findings: StoredFinding[] }>(["oversight", "run", "-c", file]);
  assert.equal(stillAcked.findings.find((f) => f.id === drift.id)?.state, "acknowledged");

  // The agent route: an agent acknowledges its own finding with its own key, never another's.
  const info = JSON.parse(readFileSync(join(dir, "state/daemon.json"), "utf8")) as { api: string };
  const flakyKey = (await runCli(["key", "show", "flaky", "-c", file])).stdout.trim();
  const ack = (id: string, key: string) =>
    fetch(`${info.api}/v1/oversight/findings/${id}/ack`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
    });
  const other = await ack(crash.id, coderKey);
  assert.equal(other.status, 404, "the coder may not acknowledge flaky's finding");
  const bad = await ack(crash.id, "flotilla-not-a-key");
  assert.equal(bad.status, 401);
  const run = await fetch(`${info.api}/v1/oversight/run`, {
    method: "POST",
    headers: { authorization: `Bearer ${coderKey}` },
  });
  assert.equal(run.status, 401, "an agent cannot run the pass");
  const own = await ack(crash.id, flakyKey);
  assert.equal(own.status, 200, await own.clone().text());
  const body = (await own.json()) as { finding: StoredFinding & { acknowledgedBy: string } };
  assert.equal(body.finding.state, "acknowledged");
  assert.equal(body.finding.acknowledgedBy, "flaky");

  // The loop's drafted penalty, accepted from the finding, once.
  const penalty = await json<{ penalty: { id: number; agent: string; why: string } }>([
    "penalty",
    "add",
    "--from-finding",
    loopFinding.id,
    "-c",
    file,
  ]);
  assert.equal(penalty.penalty.agent, "coder");
  const twice = await runCli(["penalty", "add", "--from-finding", loopFinding.id, "-c", file]);
  assert.notEqual(twice.code, 0);
  assert.match(twice.stderr, /already has penalty/);

  // The heartbeat in status.
  const status = await json<{
    oversight: { lastRun: { id: number; outcome: string }; open: number; stale: boolean };
  }>(["status", "-c", file]);
  assert.equal(status.oversight.lastRun.outcome, "ok");
  assert.equal(status.oversight.stale, false);
  const text = await runCli(["status", "-c", file]);
  assert.match(text.stdout, /oversight: last run #\d+ .* ago, ok, \d+ open finding/);

  const missing = await runCli(["oversight", "ack", "9999", "-c", file]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no finding 9999/);
});

test("upstream 429s and a fallback-tier share through the real gateway are limits findings", async (t) => {
  const [gatewayPort = 0, simPort = 0] = await freePorts(2);
  const { file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
oversight: { every: 1h, thresholds: { fallbackShare: 0.5 } }
gateway: { listen: 127.0.0.1:${gatewayPort} }
simulator:
  listen: 127.0.0.1:${simPort}
  keys:
    sim-key: { rpm: 600, fault: { kind: rate_limited, retryAfterMs: 100 } }
    sim-key-b: { rpm: 600 }
providers:
  - { id: busy, kind: openai, baseUrl: http://127.0.0.1:${simPort}/v1, keys: [{ env: SIM_KEY }] }
  - { id: spare, kind: openai, baseUrl: http://127.0.0.1:${simPort}/v1, keys: [{ env: SIM_KEY_B }] }
models:
  main: [{ provider: busy, model: sim-small }, { provider: spare, model: sim-small, tier: fallback }]
agents:
  - { name: coder, model: main, command: ${IDLE}, workspace: ./ws/coder }
`,
  );
  const up = await runCli(["up", "--detach", "-c", file], {
    env: { ...process.env, SIM_KEY: "sim-key", SIM_KEY_B: "sim-key-b" },
  });
  assert.equal(up.code, 0, up.stderr);
  await waitFor(async () => {
    const rows = (await json<{ agents: Array<{ state: string }> }>(["status", "-c", file])).agents;
    return rows.length > 0 && rows.every((r) => r.state === "running");
  }, "the fleet running");
  const key = (await runCli(["key", "show", "coder", "-c", file])).stdout.trim();
  for (let i = 0; i < 6; i++) {
    const res = await fetch(`http://127.0.0.1:${gatewayPort}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "main", messages: [{ role: "user", content: `question ${i}` }] }),
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(res.headers.get("x-flotilla-tier"), "fallback");
  }
  await waitFor(async () => {
    const events = await json<{ events: unknown[] }>(["events", "--kind", "gateway.request", "-c", file]);
    return events.events.length >= 6;
  }, "6 gateway.request events");
  const { findings } = await json<{ findings: StoredFinding[] }>(["oversight", "run", "-c", file]);
  const limits = findings.filter((f) => f.check === "limits" && f.agent === "coder");
  assert.match(
    limits.find((f) => /upstream 429/.test(f.evidence))?.evidence ?? "",
    /^\d+ upstream 429\(s\) for coder's requests since the last run \(provider busy\): ledger events #\d+/,
  );
  assert.match(
    limits.find((f) => /fallback tier/.test(f.evidence))?.evidence ?? "",
    /^6 of coder's 6 requests \(100 %, threshold 50 %\) were answered by a fallback tier/,
  );
});
