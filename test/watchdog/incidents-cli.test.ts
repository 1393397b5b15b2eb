/** `flotilla incidents`: list (table, --json, --open), show, ack (lifts the halt, records incident.resolved), unknown ids; no daemon needed. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import { writeIncident } from "../../src/watchdog/incident-log.ts";
import { openWatchdogState } from "../../src/watchdog/state-store.ts";
import type { Incident } from "../../src/watchdog/types.ts";
import { fleetDir, runCli } from "../support/fleet.ts";
import { incident } from "../support/incidents.ts";

const AT = Date.UTC(2026, 11, 7, 22, 50);

test("incidents lists, shows and acknowledges from watchdog.db while the watchdog holds it open, with no daemon", async (t) => {
  const { dir, file } = fleetDir(t, "version: 1\nstateDir: ./state\nagents: []\n");
  const stateDir = join(dir, "state");
  const empty = await runCli(["incidents", "-c", file]);
  assert.deepEqual([empty.code, empty.stdout], [0, "no incidents\n"]);

  // The watchdog's side: its state open for the whole test (WAL), and the files and ledger of one open incident.
  const state = openWatchdogState(stateDir);
  t.after(() => state.close());
  const recovered = incident("inc-20261207T2250-daemon", AT - 60_000, {
    target: { kind: "daemon", id: "daemon", name: "daemon" },
    outcome: "recovered",
    recoveredAt: AT - 30_000,
    timeToRecoverMs: 30_000,
  });
  const escalated: Incident = incident("inc-20261207T2250-agent-coder", AT, {
    outcome: "escalated",
    escalatedAt: AT + 1000,
    modelCalls: 2,
  });
  state.saveIncident(recovered);
  state.saveIncident(escalated);
  state.halt("agent:coder", escalated.id, AT + 1000);
  const ledger = openSqliteStore(join(stateDir, "ledger.db"));
  writeIncident(stateDir, escalated, ledger);
  ledger.close();

  const table = await runCli(["incidents", "-c", file]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split("\n");
  assert.match(lines[0] ?? "", /^ID\s+TARGET\s+OUTCOME\s+DETECTED\s+DETECT\s+RECOVER\s+MODEL\s+FLAGS$/);
  assert.match(
    lines[1] ?? "",
    /^inc-20261207T2250-agent-coder\s+agent:coder\s+escalated\s+2026-12-07T22:50:00Z\s+20 s\s+—\s+2\s+escalated$/,
  );
  assert.match(
    lines[2] ?? "",
    /^inc-20261207T2250-daemon\s+daemon\s+recovered\s+2026-12-07T22:49:00Z\s+20 s\s+30 s\s+0\s+-$/,
  );
  const open = await runCli(["incidents", "--open", "--json", "-c", file]);
  assert.deepEqual(
    (JSON.parse(open.stdout) as { incidents: Incident[] }).incidents.map((i) => i.id),
    [escalated.id],
  );

  const show = await runCli(["incidents", "show", escalated.id, "-c", file]);
  assert.equal(show.code, 0);
  assert.match(show.stdout, /^# Incident inc-20261207T2250-agent-coder: agent:coder down\n/);
  const missing = await runCli(["incidents", "show", "inc-nope", "-c", file]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    `flotilla incidents: no incident "inc-nope"; recent ones: ${escalated.id}, ${recovered.id} ("flotilla incidents" lists them)\n`,
  );
  assert.equal((await runCli(["incidents", "ack", "-c", file])).code, 2, "ack needs an id");

  const ack = await runCli(["incidents", "ack", escalated.id, "--json", "-c", file]);
  assert.equal(ack.code, 0, ack.stderr);
  assert.equal(typeof (JSON.parse(ack.stdout) as { incident: Incident }).incident.acknowledgedAt, "number");
  assert.equal(state.halted("agent:coder"), undefined, "the halt is lifted");
  assert.match(
    readFileSync(join(stateDir, "incidents", `${escalated.id}.md`), "utf8"),
    /- Outcome: escalated \(acknowledged\)/,
  );
  const events = openSqliteStore(join(stateDir, "ledger.db"));
  assert.deepEqual(
    events.query({ kindPrefix: "incident." }).map((e) => [e.kind, e.data.id]),
    [
      ["incident.opened", escalated.id],
      ["incident.escalated", escalated.id],
      ["incident.resolved", escalated.id],
    ],
  );
  events.close();
  const again = await runCli(["incidents", "ack", escalated.id, "-c", file]);
  assert.match(again.stdout, /was already acknowledged at .*; nothing changed/);
  assert.equal((await runCli(["incidents", "--open", "-c", file])).stdout, "no incidents\n");
});
