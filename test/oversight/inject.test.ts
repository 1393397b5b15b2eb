/**
 * Critical findings into the coordinator's session: the example agent as a real process (oversight.inject.url
 * with its own key), a command with the message on stdin; re-sent each run until acknowledged, escalated to
 * the alert channels exactly once after escalateAfter runs, stopped once acknowledged.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { injectionMessage } from "../../src/oversight/inject/message.ts";
import { createNotifier } from "../../src/oversight/notifier.ts";
import { EXAMPLE_AGENT, freePorts, NODE, waitFor } from "../support/fleet.ts";
import { configOf, finding, notifierState } from "../support/notifier.ts";
import { startReceiver } from "../support/receiver.ts";

const AGENT_KEY = "flt-example-agent-key-0123456789";

/** The example agent as an operator runs it, with its virtual key in FLOTILLA_AGENT_KEY. */
async function exampleAgent(t: TestContext, workspace: string): Promise<{ port: number }> {
  const [port = 0] = await freePorts(1);
  mkdirSync(workspace, { recursive: true });
  const child: ChildProcessWithoutNullStreams = spawn(NODE, [EXAMPLE_AGENT], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      FLOTILLA_WORKSPACE: workspace,
      FLOTILLA_AGENT_KEY: AGENT_KEY,
    },
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  t.after(() => child.kill("SIGKILL"));
  await waitFor(() => out.includes(" listening on "), "the example agent to listen");
  return { port };
}

test("the message is short and says what, where, what to do and to do it first", () => {
  const text = injectionMessage(
    finding({ id: "f-9", severity: "critical", evidence: "commit 3f2a9c1\n  on main: CI failure" }),
  );
  assert.equal(
    text,
    [
      "Flotilla oversight, critical finding f-9 (push-without-ci, agent coder).",
      'Seen: "commit 3f2a9c1 on main: CI failure".',
      "Article: Article III: Proof before done.",
      "Do: Revert 3f2a9c1 or fix the build, then push again.",
      "Address this before any other work, then acknowledge finding f-9.",
    ].join("\n"),
  );
  assert.ok(injectionMessage(finding({ evidence: "x".repeat(5000) })).length < 700);
});

test("example agent: a critical finding is injected each run until acknowledged and escalated once after escalateAfter runs", async (t) => {
  const { dir, stateDir, ledger } = notifierState(t);
  const workspace = join(dir, "boss");
  const agent = await exampleAgent(t, workspace);
  const alerts = await startReceiver(t);
  const config = configOf(
    dir,
    `oversight:
  inject: { url: "http://127.0.0.1:${agent.port}/v1/oversight", escalateAfter: 2 }
alerts:
  - { id: ops, kind: webhook, url: { env: OPS_HOOK }, minSeverity: critical }
`,
  );
  const notifier = createNotifier({
    config: () => config,
    stateDir,
    ledger,
    secrets: { OPS_HOOK: `${alerts.url}/ops` },
    agentKey: (name) => (name === "boss" ? AGENT_KEY : "wrong"),
  });
  t.after(() => notifier.close());
  const critical = finding({ id: "f-loop", severity: "critical", check: "runaway", agent: "coder" });
  const warning = finding({ id: "f-warn", severity: "warning" });

  const run1 = await notifier.notify([critical, warning], { id: 1 });
  assert.deepEqual(run1.injections, { delivered: ["f-loop"], failed: [], escalated: [], stopped: [] });
  const log = () => readFileSync(join(workspace, "sessions", "oversight.md"), "utf8");
  assert.match(
    log(),
    /finding f-loop\n\nFlotilla oversight, critical finding f-loop \(runaway, agent coder\)\./,
  );
  assert.match(log(), /Address this before any other work/);
  assert.doesNotMatch(log(), /f-warn/, "only critical findings are injected");

  // The agent reads it first in its next task.
  const chat = await fetch(`http://127.0.0.1:${agent.port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "next task" }] }),
  });
  const answer = ((await chat.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]
    ?.message.content;
  assert.match(answer ?? "", /^Oversight first: f-loop\. Done: next task/);

  // Run 2: not acknowledged, so sent again; the second unacknowledged run escalates it.
  const run2 = await notifier.notify([critical], { id: 2 });
  assert.deepEqual(run2.injections, {
    delivered: ["f-loop"],
    failed: [],
    escalated: ["f-loop"],
    stopped: [],
  });
  // Run 3: sent again, not escalated again.
  const run3 = await notifier.notify([critical], { id: 3 });
  assert.deepEqual(run3.injections, { delivered: ["f-loop"], failed: [], escalated: [], stopped: [] });
  assert.equal(log().match(/## .* finding f-loop/g)?.length, 3);

  const escalations = alerts.received
    .map((r) => r.json as { escalatedAfter: number | null; title: string; finding: { id: string } })
    .filter((b) => b.escalatedAfter !== null);
  assert.equal(escalations.length, 1, "escalated exactly once");
  assert.equal(escalations[0]?.escalatedAfter, 2);
  assert.equal(escalations[0]?.title, "[critical] runaway (coder) — unacknowledged after 2 runs");

  // Acknowledged: no more sends, and a record says why.
  const run4 = await notifier.notify([{ ...critical, state: "acknowledged" }], { id: 4 });
  assert.deepEqual(run4.injections, { delivered: [], failed: [], escalated: [], stopped: ["f-loop"] });
  const run5 = await notifier.notify([], { id: 5 });
  assert.deepEqual(run5.injections.delivered, []);
  assert.equal(log().match(/## .* finding f-loop/g)?.length, 3);
  const kinds = ledger.query({ kindPrefix: "inject.", limit: 100 }).map((e) => e.kind);
  assert.deepEqual(kinds, [
    "inject.delivered",
    "inject.delivered",
    "inject.escalated",
    "inject.delivered",
    "inject.stopped",
  ]);
});

test("example agent: an injection without the agent's own key is refused, so another agent cannot forge one", async (t) => {
  const { dir, stateDir, ledger } = notifierState(t);
  const agent = await exampleAgent(t, join(dir, "boss"));
  const config = configOf(
    dir,
    `oversight: { inject: { url: "http://127.0.0.1:${agent.port}/v1/oversight" } }\n`,
  );
  const notifier = createNotifier({
    config: () => config,
    stateDir,
    ledger,
    secrets: {},
    agentKey: () => "flt-some-other-agents-key-000000",
  });
  t.after(() => notifier.close());
  const report = await notifier.notify([finding({ severity: "critical" })], { id: 1 });
  assert.equal(report.injections.failed.length, 1);
  assert.equal(
    ledger.query({ kind: "inject.failed" })[0]?.data.error,
    "oversight.inject: the receiver answered 401",
  );
});

test("command: the message arrives on stdin; a failing command is recorded and tried again next run", async (t) => {
  const { dir, stateDir, ledger } = notifierState(t);
  const inbox = join(dir, "inbox.txt");
  const script = join(dir, "inject.mjs");
  writeFileSync(
    script,
    `import { appendFileSync, existsSync } from "node:fs";
let text = "";
for await (const chunk of process.stdin) text += chunk;
if (!existsSync(${JSON.stringify(join(dir, "ready"))})) { console.error("agent busy"); process.exit(3); }
appendFileSync(${JSON.stringify(inbox)}, process.env.FLOTILLA_FINDING_ID + " " + process.env.FLOTILLA_AGENT_NAME + "\\n" + text + "\\n");
`,
  );
  const config = configOf(
    dir,
    `oversight: { inject: { command: [${JSON.stringify(NODE)}, ${JSON.stringify(script)}] } }\n`,
  );
  const notifier = createNotifier({ config: () => config, stateDir, ledger, secrets: {} });
  t.after(() => notifier.close());
  const critical = finding({ id: "f-cmd", severity: "critical" });
  const first = await notifier.notify([critical], { id: 1 });
  assert.deepEqual(first.injections.failed, ["f-cmd"]);
  assert.equal(
    ledger.query({ kind: "inject.failed" })[0]?.data.error,
    "oversight.inject: the command exited 3: agent busy",
  );
  writeFileSync(join(dir, "ready"), "");
  // Not reported by this run: still unacknowledged, so still sent.
  const second = await notifier.notify([], { id: 2 });
  assert.deepEqual(second.injections.delivered, ["f-cmd"]);
  assert.match(readFileSync(inbox, "utf8"), /^f-cmd boss\nFlotilla oversight, critical finding f-cmd/);
});

test("command: a program that does not exist is a failed injection that names it", async (t) => {
  const { dir, stateDir, ledger } = notifierState(t);
  const config = configOf(dir, `oversight: { inject: { command: [/nonexistent/tell-boss] } }\n`);
  const notifier = createNotifier({ config: () => config, stateDir, ledger, secrets: {} });
  t.after(() => notifier.close());
  const report = await notifier.notify([finding({ severity: "critical" })], { id: 1 });
  assert.equal(report.injections.failed.length, 1);
  assert.equal(
    ledger.query({ kind: "inject.failed" })[0]?.data.error,
    "oversight.inject: cannot run /nonexistent/tell-boss (ENOENT)",
  );
});

test("with the runner's findingState, an injection whose finding was resolved meanwhile stops", async (t) => {
  const { dir, stateDir, ledger } = notifierState(t);
  const inbox = join(dir, "inbox.txt");
  const config = configOf(
    dir,
    `oversight: { inject: { command: [${JSON.stringify(NODE)}, -e, "process.stdin.pipe(require('fs').createWriteStream(${JSON.stringify(inbox).replaceAll('"', "'")}, { flags: 'a' }))"] } }\n`,
  );
  const states = new Map<string, "open" | "resolved">([["f-res", "open"]]);
  const notifier = createNotifier({
    config: () => config,
    stateDir,
    ledger,
    secrets: {},
    findingState: (id) => states.get(id),
  });
  t.after(() => notifier.close());
  assert.deepEqual(
    (await notifier.notify([finding({ id: "f-res", severity: "critical" })], { id: 1 })).injections.delivered,
    ["f-res"],
  );
  states.set("f-res", "resolved");
  const second = await notifier.notify([], { id: 2 });
  assert.deepEqual(second.injections, { delivered: [], failed: [], escalated: [], stopped: ["f-res"] });
  assert.equal(ledger.query({ kind: "inject.stopped" })[0]?.data.reason, "resolved");
});

test("no coordinator and no inject.agent: the injection fails with what to set, and alerts still go out", async (t) => {
  const { dir, stateDir, ledger } = notifierState(t);
  const receiver = await startReceiver(t);
  const config = configOf(dir, `alerts: [{ id: hook, kind: webhook, url: { env: HOOK } }]\n`);
  const noCoordinator = { ...config, agents: config.agents.map((a) => ({ ...a, role: "coder" })) };
  const notifier = createNotifier({
    config: () => noCoordinator,
    stateDir,
    ledger,
    secrets: { HOOK: `${receiver.url}/in` },
  });
  t.after(() => notifier.close());
  const report = await notifier.notify([finding({ severity: "critical" })], { id: 1 });
  assert.equal(report.alerts.delivered, 1);
  assert.equal(report.injections.failed.length, 1);
  assert.equal(
    ledger.query({ kind: "inject.failed" })[0]?.data.error,
    "no agent to inject into: set oversight.inject.agent, or give one agent role: coordinator",
  );
});
