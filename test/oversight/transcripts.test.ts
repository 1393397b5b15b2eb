/**
 * Transcript sources: a JSON-lines or plain file and OpenClaw's SQLite store (the real table's columns,
 * JSON and zstd rows), read from durable cursors; missing, binary and huge sources give a problem or a
 * bounded window, never a crash.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DatabaseSync } from "node:sqlite";
import { zstdCompressSync } from "node:zlib";
import { validateConfigText } from "../../src/config/load.ts";
import type { AgentConfig, FlotillaConfig } from "../../src/config/schema.ts";
import { transcriptReader } from "../../src/oversight/transcripts/new-transcript.ts";
import { transcriptSources } from "../../src/oversight/transcripts/sources.ts";
import { NODE } from "../support/fleet.ts";
import { scratchDir } from "../support/oversight.ts";

function fleet(dir: string, agents: string, transcripts = "{}"): FlotillaConfig {
  const text = `version: 1
stateDir: ${JSON.stringify(join(dir, "state"))}
agents:
${agents}oversight: { transcripts: ${transcripts} }
`;
  const result = validateConfigText(text, join(dir, "flotilla.yaml"));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

const agent = (config: FlotillaConfig, name: string) =>
  config.agents.find((a) => a.name === name) as AgentConfig;

test("a JSON-lines transcript is read once: each run gets only what was appended since the last committed read", (t) => {
  const dir = scratchDir(t);
  const file = join(dir, "t.jsonl");
  writeFileSync(
    file,
    [
      JSON.stringify({ type: "user", message: { role: "user", content: "Price the three databases." } }),
      JSON.stringify({
        role: "assistant",
        content: [
          { type: "text", text: "Looking them up." },
          { type: "tool_use", name: "fetch", input: { url: "x" } },
        ],
      }),
      "a plain line of text",
      "",
    ].join("\n"),
  );
  const config = fleet(
    dir,
    `  - { name: coder, command: x, workspace: ${JSON.stringify(dir)} }\n`,
    `{ coder: ${JSON.stringify(file)} }`,
  );
  const first = transcriptReader(config, "test");
  const window = first.read(agent(config, "coder"), 1 << 20);
  assert.equal(
    window.text,
    'user: Price the three databases.\nassistant: Looking them up. [tool call fetch {"url":"x"}]\na plain line of text',
  );
  // Not committed: the same text again.
  assert.equal(transcriptReader(config, "test").read(agent(config, "coder"), 1 << 20).text, window.text);
  first.commit(["coder"]);
  assert.equal(transcriptReader(config, "test").read(agent(config, "coder"), 1 << 20).text, "");
  assert.equal(
    transcriptReader(config, "other").read(agent(config, "coder"), 1 << 20).text,
    window.text,
    "each reader has its own cursor",
  );
  appendFileSync(file, "assistant: done\nassistant: half a li");
  const partial = transcriptReader(config, "test");
  assert.equal(
    partial.read(agent(config, "coder"), 1 << 20).text,
    "assistant: done",
    "a line being written waits",
  );
  partial.commit(["coder"]);
  appendFileSync(file, "ne\n");
  assert.equal(
    transcriptReader(config, "test").read(agent(config, "coder"), 1 << 20).text,
    "assistant: half a line",
  );
  // A last line without a newline is read once it is all that is new.
  const unterminated = transcriptReader(config, "test");
  unterminated.read(agent(config, "coder"), 1 << 20);
  unterminated.commit(["coder"]);
  appendFileSync(file, "assistant: no newline at the end");
  assert.equal(
    transcriptReader(config, "test").read(agent(config, "coder"), 1 << 20).text,
    "assistant: no newline at the end",
  );
  // Replaced by a shorter file (rotated): read from the start again.
  writeFileSync(file, "fresh start\n");
  assert.equal(transcriptReader(config, "test").read(agent(config, "coder"), 1 << 20).text, "fresh start");
});

test("a huge transcript is read in bounded windows, cut at whole lines, and caught up over runs", (t) => {
  const dir = scratchDir(t);
  const file = join(dir, "big.log");
  const lines = Array.from({ length: 20_000 }, (_, i) => `assistant: line ${i} ${"x".repeat(40)}`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  const config = fleet(
    dir,
    `  - { name: coder, command: x, workspace: ${JSON.stringify(dir)} }\n`,
    `{ coder: ${JSON.stringify(file)} }`,
  );
  const seen: string[] = [];
  for (let run = 0; run < 100; run++) {
    const reader = transcriptReader(config, "test");
    const window = reader.read(agent(config, "coder"), 64 * 1024);
    assert.ok(window.bytes <= 64 * 1024);
    reader.commit(["coder"]);
    if (window.text === "") break;
    seen.push(...window.text.split("\n"));
    if (!window.truncated) break;
  }
  // Not deepEqual: a diff of 20,000-line arrays takes gigabytes.
  assert.equal(seen.length, lines.length, "every line once");
  assert.ok(
    seen.every((line, i) => line === lines[i]),
    "in order, none split",
  );
});

test("a missing or binary transcript is a problem that names the file, not a crash", (t) => {
  const dir = scratchDir(t);
  const binary = join(dir, "core.bin");
  writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0, 0]));
  const missing = join(dir, "nowhere.jsonl");
  const config = fleet(
    dir,
    `  - { name: a, command: x, workspace: ${JSON.stringify(dir)} }\n  - { name: b, command: x, workspace: ${JSON.stringify(dir)} }\n`,
    `{ a: ${JSON.stringify(missing)}, b: ${JSON.stringify(binary)} }`,
  );
  const reader = transcriptReader(config, "test");
  const a = reader.read(agent(config, "a"), 1 << 20);
  assert.equal(a.text, "");
  assert.match(a.problems[0] ?? "", new RegExp(`transcript file ${missing} does not exist`));
  const b = reader.read(agent(config, "b"), 1 << 20);
  assert.match(b.problems[0] ?? "", /holds binary data/);
  assert.ok(b.problems[0]?.includes(binary));
});

/** The columns of OpenClaw 2026.9.6's transcript_events (its primary key; the CHECKs do not matter to a reader). */
const OPENCLAW_SCHEMA = `CREATE TABLE transcript_events (
  session_id TEXT NOT NULL, seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL,
  event_zstd BLOB, event_utf8_bytes INTEGER, navigation_json TEXT, PRIMARY KEY (session_id, seq)) STRICT`;

function insertEvent(db: DatabaseSync, session: string, seq: number, event: unknown, zstd = false): void {
  const json = JSON.stringify(event);
  db.prepare(
    "INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_zstd, event_utf8_bytes, navigation_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
  ).run(
    session,
    seq,
    zstd ? null : json,
    Date.now(),
    zstd ? zstdCompressSync(Buffer.from(json)) : null,
    zstd ? Buffer.byteLength(json) : null,
    zstd ? "{}" : null,
  );
}

const say = (role: string, text: string) => ({
  type: "message",
  message: { role, content: [{ type: "text", text }] },
});

test("an OpenClaw agent's transcript is read from its SQLite store (JSON and zstd rows, per session), read-only", (t) => {
  const dir = scratchDir(t);
  const home = join(dir, "claw-home");
  const store = join(home, ".openclaw-fleet", "agents", "main", "agent", "openclaw-agent.sqlite");
  mkdirSync(join(store, ".."), { recursive: true });
  const db = new DatabaseSync(store);
  t.after(() => db.close());
  db.exec("PRAGMA journal_mode=WAL");
  db.exec(OPENCLAW_SCHEMA);
  insertEvent(db, "s1", 0, { type: "session", id: "s1", cwd: dir });
  insertEvent(db, "s1", 1, say("user", "Start on today's tasks."));
  insertEvent(
    db,
    "s1",
    2,
    {
      type: "message",
      message: {
        role: "assistant",
        content: [{ type: "toolCall", name: "shell", arguments: { cmd: "ls" } }],
      },
    },
    true,
  );
  insertEvent(db, "s2", 0, say("assistant", "Second session says hello."), true);
  const config = fleet(
    dir,
    `  - name: claw
    command: [${JSON.stringify(NODE)}, /opt/openclaw/openclaw.mjs, --profile, fleet, gateway, run]
    workspace: ${JSON.stringify(dir)}
    env: { OPENCLAW_HOME: ${JSON.stringify(home)} }
`,
  );
  assert.deepEqual(
    transcriptSources(config, agent(config, "claw")).map((s) => [s.kind, s.path]),
    [["openclaw", store]],
  );
  const reader = transcriptReader(config, "test");
  const window = reader.read(agent(config, "claw"), 1 << 20);
  assert.equal(
    window.text,
    'user: Start on today\'s tasks.\nassistant: [tool call shell {"cmd":"ls"}]\nassistant: Second session says hello.',
  );
  reader.commit(["claw"]);
  // OpenClaw keeps writing (WAL) while we read: only the new rows, in both sessions.
  insertEvent(db, "s1", 3, say("assistant", "All tests pass."), true);
  insertEvent(db, "s2", 1, say("user", "Thanks."));
  const next = transcriptReader(config, "test");
  assert.equal(next.read(agent(config, "claw"), 1 << 20).text, "assistant: All tests pass.\nuser: Thanks.");
  next.commit(["claw"]);
  assert.equal(transcriptReader(config, "test").read(agent(config, "claw"), 1 << 20).text, "");
  // A cap smaller than the rows: the rest comes on the next read, nothing lost.
  for (let seq = 4; seq < 30; seq++)
    insertEvent(db, "s1", seq, say("assistant", `update ${seq} ${"y".repeat(100)}`), seq % 2 === 0);
  const texts: string[] = [];
  for (let run = 0; run < 20; run++) {
    const r = transcriptReader(config, "test");
    const w = r.read(agent(config, "claw"), 1_000);
    r.commit(["claw"]);
    if (w.text !== "") texts.push(...w.text.split("\n"));
    if (!w.truncated) break;
  }
  assert.deepEqual(
    texts.map((line) => /update (\d+)/.exec(line)?.[1]),
    Array.from({ length: 26 }, (_, i) => String(i + 4)),
  );
});

test("a configured SQLite file that is not OpenClaw's store is a problem, not a crash", (t) => {
  const dir = scratchDir(t);
  const file = join(dir, "other.sqlite");
  const db = new DatabaseSync(file);
  db.exec("CREATE TABLE notes (body TEXT)");
  db.close();
  const config = fleet(
    dir,
    `  - { name: coder, command: x, workspace: ${JSON.stringify(dir)} }\n`,
    `{ coder: ${JSON.stringify(file)} }`,
  );
  const window = transcriptReader(config, "test").read(agent(config, "coder"), 1 << 20);
  assert.match(window.problems[0] ?? "", /is not an OpenClaw transcript store/);
});

test("an OpenClaw agent that has not run yet has no transcript source; a process agent without a file has none", (t) => {
  const dir = scratchDir(t);
  const config = fleet(
    dir,
    `  - { name: claw, kind: openclaw, command: openclaw gateway run, workspace: ${JSON.stringify(dir)}, env: { OPENCLAW_HOME: ${JSON.stringify(dir)} } }\n  - { name: coder, command: x, workspace: ${JSON.stringify(dir)} }\n`,
  );
  assert.deepEqual(transcriptSources(config, agent(config, "claw")), []);
  assert.deepEqual(transcriptSources(config, agent(config, "coder")), []);
});
