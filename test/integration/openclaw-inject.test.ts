/**
 * A critical finding injected into a real OpenClaw coordinator under the supervisor: through its own
 * interface (POST /v1/chat/completions with x-openclaw-session-key on its gateway port), proven by reading
 * its transcript store read-only; sent again on the next run, escalated once, stopped when acknowledged.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import { createNotifier } from "../../src/oversight/notifier.ts";
import { fleetDir, freePorts, runCli, status, waitFor } from "../support/fleet.ts";
import { finding } from "../support/notifier.ts";
import {
  clawAgent,
  ensureOpenClaw,
  gatewayBlock,
  transcriptMessages,
  writeOpenClawHome,
} from "../support/openclaw.ts";

test(
  "a critical finding lands in the OpenClaw coordinator's main session, again next run, until acknowledged",
  { timeout: 900_000 },
  async (t) => {
    const entry = await ensureOpenClaw();
    const [port = 0, gateway = 0, sim = 0] = await freePorts(3);
    const { dir, file } = fleetDir(t, "");
    const home = join(dir, "claw-home");
    writeOpenClawHome(home, gateway);
    writeFileSync(
      file,
      `version: 1
stateDir: ./state
${gatewayBlock(gateway, sim)}oversight:
  inject: { escalateAfter: 2 }
alerts:
  - { id: log, kind: file, path: ./alerts.jsonl, minSeverity: critical }
agents:
${clawAgent("claw", entry, port, home, "    role: coordinator\n    model: demo")}
`,
    );
    const up = await runCli(["up", "--detach", "--json", "-c", file], {
      env: { ...process.env, SIM_KEY: "sim-key" },
    });
    assert.equal(up.code, 0, up.stderr);
    await waitFor(
      async () =>
        (await status(file)).find((a) => a.name === "claw" && a.state === "running" && a.health.ok === true),
      "OpenClaw to answer /health",
      300_000,
    );

    const { config } = loadConfig(file);
    const notifyDir = join(dir, "notifier");
    mkdirSync(notifyDir);
    const ledger = openSqliteStore(join(notifyDir, "ledger.db"));
    t.after(() => ledger.close());
    const notifier = createNotifier({ config: () => config, stateDir: notifyDir, ledger, secrets: {} });
    t.after(() => notifier.close());

    const critical = finding({
      id: "f-claw-1",
      severity: "critical",
      check: "runaway",
      agent: "claw",
      evidence: "1,535 identical exec calls in 2 h",
    });
    const injected = () =>
      transcriptMessages(home).filter(
        (m) => m.role === "user" && m.text.includes("critical finding f-claw-1"),
      );

    const run1 = await notifier.notify([critical], { id: 1 });
    assert.deepEqual(run1.injections, { delivered: ["f-claw-1"], failed: [], escalated: [], stopped: [] });
    const first = await waitFor(() => injected()[0], "the message in OpenClaw's transcript");
    assert.match(first.text, /^Flotilla oversight, critical finding f-claw-1 \(runaway, agent claw\)\./);
    assert.match(first.text, /Address this before any other work/);
    // The agent took the turn: its answer follows in the same session.
    assert.ok(
      transcriptMessages(home).some(
        (m) => m.sessionId === first.sessionId && m.role === "assistant" && m.seq > first.seq,
      ),
      "OpenClaw answered in the session the message went into",
    );

    const run2 = await notifier.notify([critical], { id: 2 });
    assert.deepEqual(run2.injections, {
      delivered: ["f-claw-1"],
      failed: [],
      escalated: ["f-claw-1"],
      stopped: [],
    });
    const both = await waitFor(
      () => (injected().length === 2 ? injected() : undefined),
      "the second injection",
    );
    assert.equal(both[1]?.sessionId, first.sessionId, "the same session: the coordinator's main one");
    const escalations = readFileSync(join(dir, "alerts.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { escalatedAfter: number | null });
    assert.deepEqual(
      escalations.map((e) => e.escalatedAfter),
      [null, 2],
    );

    const run3 = await notifier.notify([{ ...critical, state: "acknowledged" }], { id: 3 });
    assert.deepEqual(run3.injections.stopped, ["f-claw-1"]);
    assert.equal(injected().length, 2, "nothing is sent once it is acknowledged");
    assert.deepEqual(
      ledger.query({ kindPrefix: "inject." }).map((e) => [e.kind, e.data.via ?? null]),
      [
        ["inject.delivered", "openclaw"],
        ["inject.delivered", "openclaw"],
        ["inject.escalated", null],
        ["inject.stopped", null],
      ],
    );
  },
);
