/**
 * Incident records: ids, the Markdown, the append-only log, the ledger events the startup brief reads, and
 * every path where something cannot be written (incidents/ is a file, a damaged ledger, a locked ledger).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { openIncidents } from "../../src/constitution/records.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import {
  incidentId,
  openLedgerForIncidents,
  readIncidentLog,
  renderIncident,
  writeIncident,
} from "../../src/watchdog/incident-log.ts";
import type { Target } from "../../src/watchdog/types.ts";
import { incident } from "../support/incidents.ts";

function stateDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-wd-inc-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const AT = Date.UTC(2026, 11, 7, 22, 50, 31);

test("incident ids: UTC minute and target, a suffix on collision", () => {
  const coder: Target = { kind: "agent", id: "agent:coder", name: "coder" };
  assert.equal(incidentId(coder, AT), "inc-20261207T2250-agent-coder");
  assert.equal(
    incidentId({ kind: "provider", id: "provider:Open_AI", name: "Open_AI" }, AT),
    "inc-20261207T2250-provider-open-ai",
  );
  const taken = new Set(["inc-20261207T2250-agent-coder", "inc-20261207T2250-agent-coder-2"]);
  assert.equal(
    incidentId(coder, AT, (id) => taken.has(id)),
    "inc-20261207T2250-agent-coder-3",
  );
});

test("the Markdown shows what was seen, the diagnosis, the policy's word, what ran, the restore, timings; agent text cannot break out of its fences", () => {
  const text = renderIncident(
    incident("inc-x", AT, {
      diagnosis: {
        diagnosis: "The agent hangs on a lock.\n```\n# Injected heading",
        confidence: 0.7,
        actions: [],
        source: "model",
        model: "sim/sim-small",
      },
      proposed: [{ argv: ["flotilla", "restart", "coder"], why: "restart it" }, { argv: ["rm", "-rf", "/"] }],
      decisions: [
        { allowed: true, argv: ["flotilla", "restart", "coder"], rule: "flotilla restart" },
        { allowed: false, argv: ["rm", "-rf", "/"], reason: "rm is not on the allowlist" },
      ],
      ran: [
        {
          argv: ["flotilla", "restart", "coder"],
          origin: "model",
          exitCode: 0,
          timedOut: false,
          output: "restarted coder\n````\nnot a heading",
          ms: 1200,
        },
      ],
      restore: {
        backupId: "b-7",
        fromSha256: "a".repeat(64),
        toSha256: "b".repeat(64),
        diff: "-x: 1\n+x: 2",
        keptKeys: ["OPENAI_KEY"],
        skippedFiles: [],
        outcome: "applied",
        savedAs: "b-8",
      },
      outcome: "recovered",
      recoveredAt: AT + 30_000,
      timeToRecoverMs: 30_000,
      modelCalls: 1,
    }),
  );
  for (const part of [
    "# Incident inc-x: agent:coder down",
    "- Detected: 2026-12-07T22:50:31.000Z (time to detect 20 s)",
    "- Recovered: 2026-12-07T22:51:01.000Z (time to recover 30 s)",
    "- Model calls: 1",
    "## What was seen",
    "Confidence 0.7, from sim/sim-small:",
    '- refused `["rm","-rf","/"]`: rm is not on the allowlist',
    '- allowed `["flotilla","restart","coder"]` (rule: flotilla restart)',
    "(model): exit 0 after 1 s",
    `- sha256 before: ${"a".repeat(64)}`,
    "- Live files saved first as backup b-8",
    "- Secret references kept from the live config: OPENAI_KEY",
    "```diff\n-x: 1\n+x: 2\n```",
  ])
    assert.ok(text.includes(part), `has ${JSON.stringify(part)}`);
  // Text from the model and the agent sits inside fences longer than its own backticks.
  assert.ok(text.includes("````\nThe agent hangs on a lock.\n```\n# Injected heading\n````"));
  assert.ok(text.includes("`````\nrestarted coder\n````\nnot a heading\n`````"));
  assert.deepEqual(text.match(/^## .*/gm), [
    "## What was seen",
    "## Diagnosis",
    "## Actions",
    "## Config restore",
  ]);
});

test("files and ledger events: opened on the first write, escalated and resolved once each; the startup brief sees it open, then not", (t) => {
  const dir = stateDir(t);
  const store = openLedgerForIncidents(dir);
  assert.ok(store);
  t.after(() => store.close());
  const open = incident("inc-1", AT);
  const first = writeIncident(dir, open, store);
  assert.deepEqual(first.failed, []);
  assert.deepEqual(first.wrote, [
    join(dir, "incidents", "inc-1.md"),
    join(dir, "incidents", "incidents.jsonl"),
    "ledger",
  ]);
  assert.match(
    readFileSync(join(dir, "incidents", "inc-1.md"), "utf8"),
    /^# Incident inc-1: agent:coder down/,
  );
  assert.deepEqual(
    openIncidents(store, "coder").map((i) => [i.id, i.title]),
    [["inc-1", "agent:coder down: failed (exit signal SIGKILL)"]],
  );

  const escalated = { ...open, outcome: "escalated" as const, escalatedAt: AT + 60_000 };
  writeIncident(dir, escalated, store);
  writeIncident(dir, escalated, store);
  const acked = { ...escalated, acknowledgedAt: AT + 120_000 };
  writeIncident(dir, acked, store);
  writeIncident(dir, acked, store);
  const kinds = store.query({ kindPrefix: "incident." }).map((e) => [e.kind, e.agent, e.data]);
  assert.deepEqual(kinds, [
    ["incident.opened", "coder", { id: "inc-1", title: "agent:coder down: failed (exit signal SIGKILL)" }],
    ["incident.escalated", "coder", { id: "inc-1" }],
    ["incident.resolved", "coder", { id: "inc-1", outcome: "acknowledged" }],
  ]);
  assert.deepEqual(openIncidents(store), []);
  // The log keeps every write, in order.
  assert.deepEqual(
    readIncidentLog(dir).map((e) => [e.incident.outcome, e.incident.acknowledgedAt ?? null]),
    [
      ["open", null],
      ["escalated", null],
      ["escalated", null],
      ["escalated", AT + 120_000],
      ["escalated", AT + 120_000],
    ],
  );
  // A recovered incident resolves with outcome "recovered".
  writeIncident(
    dir,
    incident("inc-2", AT, { target: { kind: "daemon", id: "daemon", name: "daemon" } }),
    store,
  );
  writeIncident(
    dir,
    incident("inc-2", AT, {
      target: { kind: "daemon", id: "daemon", name: "daemon" },
      outcome: "recovered",
      recoveredAt: AT + 5000,
    }),
    store,
  );
  const resolved = store.query({ kind: "incident.resolved" }).at(-1);
  assert.deepEqual([resolved?.agent, resolved?.data], [null, { id: "inc-2", outcome: "recovered" }]);
});

test("incidents/ that is a file: both files reported failed, nothing thrown, the ledger still written", (t) => {
  const dir = stateDir(t);
  writeFileSync(join(dir, "incidents"), "not a folder");
  const store = openLedgerForIncidents(dir);
  assert.ok(store);
  t.after(() => store.close());
  const result = writeIncident(dir, incident("inc-1", AT), store);
  assert.deepEqual(result.failed, [
    join(dir, "incidents", "inc-1.md"),
    join(dir, "incidents", "incidents.jsonl"),
  ]);
  assert.deepEqual(result.wrote, ["ledger"]);
  assert.equal(store.query({ kind: "incident.opened" }).length, 1);
});

test("a damaged ledger: no store (never a throw), and the files still carry the incident", (t) => {
  const dir = stateDir(t);
  writeFileSync(join(dir, "ledger.db"), "this is not a database, it is a damaged file ".repeat(100));
  assert.equal(openLedgerForIncidents(dir), undefined);
  const result = writeIncident(dir, incident("inc-1", AT), openLedgerForIncidents(dir));
  assert.deepEqual(result.failed, []);
  assert.equal(result.wrote.length, 2);
  assert.equal(readIncidentLog(dir)[0]?.incident.id, "inc-1");
});

test("a ledger locked by another writer: no store after a short wait; once free, a store", (t) => {
  const dir = stateDir(t);
  mkdirSync(dir, { recursive: true });
  openSqliteStore(join(dir, "ledger.db")).close();
  const holder = new DatabaseSync(join(dir, "ledger.db"));
  t.after(() => holder.isOpen && holder.close());
  holder.exec("BEGIN EXCLUSIVE");
  assert.equal(openLedgerForIncidents(dir), undefined);
  holder.exec("ROLLBACK");
  const store = openLedgerForIncidents(dir);
  assert.ok(store);
  store.close();
});
