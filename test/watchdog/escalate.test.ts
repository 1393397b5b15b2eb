/**
 * Escalation straight from the watchdog: "human needed" with what was tried, to watchdog.alerts (default
 * every channel) through the alert channels' own senders, a real webhook receiver on 127.0.0.1 and a file
 * channel; every secret value is removed; with no channel, or every channel failing, it lands on stderr and
 * in <stateDir>/incidents/escalations.jsonl; it never throws.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { escalate } from "../../src/watchdog/recover/escalate.ts";
import type { Incident } from "../../src/watchdog/types.ts";
import { FLEETS_DIR } from "../support/fleet.ts";
import { startReceiver } from "../support/receiver.ts";

const SECRET = "coder-token-0123456789";

const incident: Incident = {
  id: "inc-7",
  target: { kind: "agent", id: "agent:coder", name: "coder" },
  firstSeenAt: 1_000,
  detectedAt: 2_000,
  seen: [
    {
      target: { kind: "agent", id: "agent:coder", name: "coder" },
      state: "down",
      detail: "state failed (exit 1)",
      at: 2_000,
    },
  ],
  noDiagnosis: "no model configured",
  proposed: [],
  decisions: [],
  ran: [
    {
      argv: ["POST", "/v1/agents/coder/start"],
      origin: "deterministic",
      exitCode: 1,
      timedOut: false,
      output: "",
      ms: 5,
    },
  ],
  restore: {
    backupId: "",
    fromSha256: "",
    toSha256: "",
    diff: "",
    keptKeys: [],
    skippedFiles: [],
    outcome: "refused",
    reason: "no last known good yet",
  },
  outcome: "open",
  timeToDetectMs: 1_000,
  modelCalls: 0,
  // An agent can write its own logs: a note quoting one may hold a secret.
  notes: [`the log said: login failed with ${SECRET}`],
};

function fleet(t: TestContext, alerts: string, watchdog = "") {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-escalate-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "flotilla.yaml");
  writeFileSync(
    file,
    `version: 1
stateDir: ./state
${watchdog}alerts:${alerts}agents:
  - { name: coder, command: [node, a.js], workspace: ./ws, env: { TOKEN: { env: CODER_TOKEN } } }
`,
  );
  const config = loadConfig(file).config;
  return { dir, config, stateDir: config.stateDir };
}

/** Runs fn with stderr captured. */
async function capturingStderr<T>(fn: () => Promise<T>): Promise<{ value: T; stderr: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), stderr };
  } finally {
    process.stderr.write = write;
  }
}

const HEADLINE =
  "human needed: agent:coder after POST /v1/agents/coder/start (exit 1), restore of last known good (refused: no last known good yet), incident inc-7";

test("human needed goes to every channel, critical whatever their minSeverity, with no secret in it", async (t) => {
  const hook = await startReceiver(t);
  const broken = await startReceiver(t, () => ({ status: 500 }));
  const { dir, config, stateDir } = fleet(
    t,
    `
  - { id: hook, kind: webhook, url: { env: HOOK_URL }, minSeverity: critical }
  - { id: broken, kind: webhook, url: { env: BROKEN_URL } }
  - { id: audit, kind: file, path: ./escalations.log }
`,
  );
  const env = { HOOK_URL: `${hook.url}/hook`, BROKEN_URL: broken.url, CODER_TOKEN: SECRET };
  const result = await escalate(incident, { config, env, stateDir });
  assert.deepEqual(result.delivered, ["hook", "audit"]);
  assert.deepEqual(result.failed, ["broken"]);
  assert.equal(hook.received.length, 1);
  const body = hook.received[0]?.json as { text: string; finding: { severity: string; evidence: string } };
  assert.equal(body.finding.severity, "critical");
  assert.ok(body.finding.evidence.startsWith(`${HEADLINE}\n`), body.finding.evidence);
  assert.match(body.text, /Seen: down: state failed \(exit 1\)/);
  assert.match(body.text, /No diagnosis: no model configured/);
  const audit = readFileSync(join(dir, "escalations.log"), "utf8");
  assert.match(audit, /human needed: agent:coder/);
  for (const text of [hook.received[0]?.text ?? "", audit]) {
    assert.ok(!text.includes(SECRET), "the secret never leaves");
    assert.match(text, /login failed with \[redacted\]/);
  }
  assert.equal(existsSync(join(stateDir, "incidents/escalations.jsonl")), false, "delivered: no fallback");
});

test("watchdog.alerts picks the channels; when every one fails, stderr and escalations.jsonl have it", async (t) => {
  const hook = await startReceiver(t);
  const broken = await startReceiver(t, () => ({ status: 503 }));
  const { config, stateDir } = fleet(
    t,
    `
  - { id: hook, kind: webhook, url: { env: HOOK_URL } }
  - { id: broken, kind: webhook, url: { env: BROKEN_URL } }
  - { id: unset, kind: webhook, url: { env: NOT_SET_URL } }
`,
    "watchdog: { alerts: [broken, unset] }\n",
  );
  const env = { HOOK_URL: hook.url, BROKEN_URL: broken.url, CODER_TOKEN: SECRET };
  const { value, stderr } = await capturingStderr(() => escalate(incident, { config, env, stateDir }));
  assert.deepEqual(value, { delivered: [], failed: ["broken", "unset"] });
  assert.equal(hook.received.length, 0, "a channel watchdog.alerts does not name gets nothing");
  assert.equal(broken.received.length, 1);
  assert.ok(stderr.includes(HEADLINE), stderr);
  assert.ok(!stderr.includes(SECRET));
  const lines = readFileSync(join(stateDir, "incidents/escalations.jsonl"), "utf8").trim().split("\n");
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0] ?? "{}") as { failedChannels: string[]; finding: { evidence: string } };
  assert.deepEqual(entry.failedChannels, ["broken", "unset"]);
  assert.ok(entry.finding.evidence.startsWith(HEADLINE));
  assert.ok(!lines[0]?.includes(SECRET));
});

test("no channel configured, or nowhere to write: it still never throws", async (t) => {
  const { config, stateDir } = fleet(t, " []\n");
  const { value, stderr } = await capturingStderr(() => escalate(incident, { config, env: {}, stateDir }));
  assert.deepEqual(value, { delivered: [], failed: [] });
  assert.ok(stderr.includes(HEADLINE));
  assert.equal(
    readFileSync(join(stateDir, "incidents/escalations.jsonl"), "utf8").trim().split("\n").length,
    1,
  );
  // The incidents folder cannot be made (a file is in its way): stderr alone, and no exception.
  rmSync(join(stateDir, "incidents"), { recursive: true });
  writeFileSync(join(stateDir, "incidents"), "not a folder");
  const blocked = await capturingStderr(() => escalate(incident, { config, env: {}, stateDir }));
  assert.deepEqual(blocked.value, { delivered: [], failed: [] });
  assert.ok(blocked.stderr.includes(HEADLINE));
});
