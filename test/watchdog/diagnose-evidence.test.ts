// The evidence a diagnosis reads: log tails (big files, rotations, overlong lines, oversight's lines), events from
// the real ledger opened read-only or, when it is locked or damaged, from the incident file, and the config check.
import assert from "node:assert/strict";
import {
  appendFileSync,
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import { gatherEvidence } from "../../src/watchdog/diagnose/gather.ts";
import { readLogTail } from "../../src/watchdog/diagnose/log-tail.ts";
import { recentEvents } from "../../src/watchdog/diagnose/recent-events.ts";
import { diagnosisFleet, target } from "../support/diagnosis.ts";

const lines = (from: number, to: number, prefix = "line") =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}`);

const FLEET = `agents:
  - { name: coder, role: coder, command: [x], workspace: ./ws }
`;

test("the tail of a 200 MB log reads only its end", (t) => {
  const { stateDir } = diagnosisFleet(t, "");
  const file = join(stateDir, "logs", "coder.log");
  const fd = openSync(file, "w");
  ftruncateSync(fd, 200 * 1024 * 1024); // sparse: costs no disk
  closeSync(fd);
  appendFileSync(file, `\n${lines(0, 100).join("\n")}\n`);
  const tail = readLogTail(file, 50);
  assert.deepEqual(tail.lines, lines(50, 100));
  assert.ok(tail.bytesRead <= 64 * 1024, `read ${tail.bytesRead} bytes`);
  assert.deepEqual(tail.files, [file]);
});

test("a log that is one endless line is read up to the cap, and its line is cut", (t) => {
  const { stateDir } = diagnosisFleet(t, "");
  const file = join(stateDir, "logs", "coder.log");
  const fd = openSync(file, "w");
  ftruncateSync(fd, 50 * 1024 * 1024);
  closeSync(fd);
  appendFileSync(file, `${"x".repeat(300_000)}\nlast words\n`);
  const tail = readLogTail(file, 50);
  assert.ok(tail.bytesRead <= 4 * 1024 * 1024, `read ${tail.bytesRead} bytes`);
  assert.equal(tail.lines.at(-1), "last words");
  assert.equal(tail.lines.length, 2);
  assert.match(tail.lines[0] ?? "", /^\[…cut\] x{1000}$/);
});

test("a line longer than the cap between short ones is cut, the others are whole", (t) => {
  const { stateDir } = diagnosisFleet(t, "");
  const file = join(stateDir, "logs", "coder.log");
  writeFileSync(file, `first\n${"y".repeat(200_000)}\nsecond\nthird`);
  const tail = readLogTail(file, 10);
  assert.equal(tail.lines.length, 4);
  assert.deepEqual([tail.lines[0], tail.lines[2], tail.lines[3]], ["first", "second", "third"]);
  assert.match(tail.lines[1] ?? "", /^\[…cut\] y{1000}$/);
});

test("fewer lines than asked in the current file: the tail continues into the previous rotations, in order", (t) => {
  const { stateDir } = diagnosisFleet(t, "");
  const file = join(stateDir, "logs", "coder.log");
  writeFileSync(`${file}.2`, `${lines(0, 40).join("\n")}\n`);
  writeFileSync(`${file}.1`, `${lines(40, 70).join("\n")}\n`);
  writeFileSync(file, `${lines(70, 73).join("\n")}\n`);
  const tail = readLogTail(file, 50);
  assert.deepEqual(tail.lines, lines(23, 73));
  assert.deepEqual(tail.files, [file, `${file}.1`, `${file}.2`]);
  assert.deepEqual(readLogTail(file, 2).files, [file]);
});

test("right after a rotation (no current file) the tail starts in the previous one", (t) => {
  const { stateDir } = diagnosisFleet(t, "");
  const file = join(stateDir, "logs", "coder.log");
  writeFileSync(`${file}.1`, `${lines(0, 10).join("\n")}\n`);
  assert.deepEqual(readLogTail(file, 5).lines, lines(5, 10));
  assert.deepEqual(readLogTail(join(stateDir, "logs", "nobody.log"), 5).lines, []);
});

test("each target reads its own log: agent, gateway, daemon, oversight's lines of the daemon's, none for the config", (t) => {
  const fleet = diagnosisFleet(t, FLEET);
  const logs = join(fleet.stateDir, "logs");
  writeFileSync(join(logs, "coder.log"), "coder says hi\n");
  writeFileSync(join(logs, "gateway.log"), "gateway says hi\nprovider first: 503\n");
  writeFileSync(
    join(fleet.stateDir, "daemon.log"),
    [
      "10:00:00 daemon       daemon.started",
      "10:00:05 daemon       oversight.run {}",
      "10:01:00 coder        agent.started",
    ].join("\n"),
  );
  const ctx = { config: fleet.config, configFile: fleet.file, logLines: 50 };
  const logOf = (kind: Parameters<typeof target>[0], name?: string) =>
    gatherEvidence(target(kind, name), ctx, (s) => s).logs;
  assert.deepEqual(logOf("agent", "coder"), ["coder says hi"]);
  assert.deepEqual(logOf("gateway"), ["gateway says hi", "provider first: 503"]);
  assert.deepEqual(logOf("provider", "first"), ["provider first: 503"]);
  assert.equal(logOf("daemon").length, 3);
  assert.deepEqual(logOf("oversight"), ["10:00:05 daemon       oversight.run {}"]);
  assert.deepEqual(logOf("config"), []);
});

function fillLedger(stateDir: string): void {
  const store = openSqliteStore(join(stateDir, "ledger.db"));
  store.append({ kind: "agent.started", agent: "coder", data: { pid: 100 } });
  for (let i = 0; i < 40; i++)
    store.append({ kind: "gateway.request", agent: "coder", data: { provider: "first", status: 200 } });
  store.append({ kind: "gateway.request", agent: "coder", data: { provider: "first", status: 503 } });
  store.append({ kind: "agent.started", agent: "other", data: {} });
  store.append({ kind: "agent.exited", agent: "coder", data: { code: 1, signal: null } });
  store.append({ kind: "config.drift", data: { file: "flotilla.yaml" } });
  store.append({ kind: "oversight.run", data: { findings: 0 } });
  store.close();
}

test("events about the target come from the ledger (read-only), oldest first; requests served well are left out", (t) => {
  const fleet = diagnosisFleet(t, FLEET);
  fillLedger(fleet.stateDir);
  const events = recentEvents(fleet.stateDir, target("agent", "coder"));
  assert.equal(events.length, 3);
  assert.match(events[0] ?? "", /^\d{4}-\d\d-\d\dT[\d:.]+Z agent\.started coder \{"pid":100\}$/);
  assert.match(events[1] ?? "", / gateway\.request coder .*"status":503/);
  assert.match(events[2] ?? "", / agent\.exited coder \{"code":1,"signal":null\}$/);
  assert.match(recentEvents(fleet.stateDir, target("config")).join("\n"), /config\.drift/);
  assert.match(recentEvents(fleet.stateDir, target("oversight")).join("\n"), /oversight\.run/);
  assert.match(recentEvents(fleet.stateDir, target("provider", "first")).join("\n"), /"status":503/);
  assert.equal(recentEvents(fleet.stateDir, target("provider", "first")).length, 1);
});

test("at most the last 30 events", (t) => {
  const fleet = diagnosisFleet(t, FLEET);
  const store = openSqliteStore(join(fleet.stateDir, "ledger.db"));
  for (let i = 0; i < 45; i++) store.append({ kind: "agent.restarting", agent: "coder", data: { n: i } });
  store.close();
  const events = recentEvents(fleet.stateDir, target("agent", "coder"));
  assert.equal(events.length, 30);
  assert.match(events[0] ?? "", /"n":15\}$/);
  assert.match(events[29] ?? "", /"n":44\}$/);
});

function writeIncidentFile(stateDir: string): void {
  mkdirSync(join(stateDir, "incidents"), { recursive: true });
  writeFileSync(
    join(stateDir, "incidents", "incidents.jsonl"),
    [
      JSON.stringify({
        id: "i1",
        target: { kind: "agent", id: "agent:coder", name: "coder" },
        outcome: "recovered",
      }),
      JSON.stringify({ id: "i2", target: "agent:other", outcome: "open" }),
      JSON.stringify({ id: "i3", note: "ledger locked at 10:00" }),
      '{"id":"i4","target":"agent:coder","outc', // cut by a crash mid-write
    ].join("\n"),
  );
}

function assertFallback(events: string[], reason: RegExp): void {
  assert.match(events[0] ?? "", /^ledger unreadable \(/);
  assert.match(events[0] ?? "", reason);
  assert.match(events[0] ?? "", /: 2 entries from incidents\/incidents\.jsonl instead$/);
  assert.deepEqual(
    events.slice(1).map((line) => (JSON.parse(line) as { id: string }).id),
    ["i1", "i3"],
  );
}

test("a ledger held under an exclusive lock by another connection: the incident file's entries instead", (t) => {
  const fleet = diagnosisFleet(t, FLEET);
  fillLedger(fleet.stateDir);
  writeIncidentFile(fleet.stateDir);
  const holder = new DatabaseSync(join(fleet.stateDir, "ledger.db"));
  t.after(() => holder.close());
  holder.exec("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; DELETE FROM events WHERE 0; COMMIT;");
  assertFallback(recentEvents(fleet.stateDir, target("agent", "coder")), /database is locked/);
});

test("a damaged ledger (garbage, or cut short): the incident file's entries instead", (t) => {
  const fleet = diagnosisFleet(t, FLEET);
  writeIncidentFile(fleet.stateDir);
  const ledger = join(fleet.stateDir, "ledger.db");
  writeFileSync(ledger, "this is not a database ".repeat(500));
  assertFallback(recentEvents(fleet.stateDir, target("agent", "coder")), /not a database/);

  writeFileSync(ledger, "");
  const store = openSqliteStore(ledger);
  for (let i = 0; i < 2000; i++) store.append({ kind: "agent.started", agent: "coder", data: { i } });
  store.close();
  truncateSync(ledger, 8192);
  assertFallback(recentEvents(fleet.stateDir, target("agent", "coder")), /malformed|not a database/);
});

test("no ledger and no incident file: one line that says so", (t) => {
  const fleet = diagnosisFleet(t, FLEET);
  const events = recentEvents(fleet.stateDir, target("agent", "coder"));
  assert.equal(events.length, 1);
  assert.match(
    events[0] ?? "",
    /^ledger unreadable \(.*\): 0 entries from incidents\/incidents\.jsonl instead$/,
  );
  assert.equal(existsSync(join(fleet.stateDir, "ledger.db")), false, "a read-only open created the ledger");
});

test("a ledger the daemon is writing (WAL open, events not yet checkpointed) is read as it stands", (t) => {
  const fleet = diagnosisFleet(t, FLEET);
  const store = openSqliteStore(join(fleet.stateDir, "ledger.db"));
  t.after(() => store.close());
  store.append({ kind: "agent.started", agent: "coder", data: {} });
  store.flush();
  assert.equal(existsSync(join(fleet.stateDir, "ledger.db-wal")), true);
  store.append({ kind: "agent.exited", agent: "coder", data: { code: 137 } });
  store.flush();
  const events = recentEvents(fleet.stateDir, target("agent", "coder"));
  assert.deepEqual(
    events.map((line) => line.split(" ")[1]),
    ["agent.started", "agent.exited"],
  );
});

test("the config check: valid, or the live file's problems one per line", (t) => {
  const fleet = diagnosisFleet(t, FLEET);
  const ctx = { config: fleet.config, configFile: fleet.file, logLines: 50 };
  assert.equal(gatherEvidence(target("config"), ctx, (s) => s).configCheck, "valid");
  writeFileSync(fleet.file, "version: 1\nagents:\n  - { name: coder }\nwatchdog: { every: often }\n");
  const problems = gatherEvidence(target("config"), ctx, (s) => s).configCheck.split("\n");
  assert.ok(problems.length >= 2, problems.join("\n"));
  for (const line of problems) assert.match(line, new RegExp(`^${fleet.file}:\\d+: \\S+: `));
  assert.ok(problems.some((line) => /watchdog\.every: must be a duration/.test(line)));
  writeFileSync(fleet.file, "version: 1\nagents: [\n");
  assert.match(
    gatherEvidence(target("config"), ctx, (s) => s).configCheck,
    /\(yaml\): .*fix the YAML syntax/,
  );
});
