/**
 * Restarting and freezing the oversight pass: a frozen pass stops finishing runs (the heartbeat goes
 * stale with the daemon up) until a restart abandons the stuck run and starts a fresh one; a stuck check's
 * late findings are discarded; only the operator may do either (an agent's key gets 403). Over loopback,
 * then on a real fleet through the CLI.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { connectDaemon } from "../../src/api/client.ts";
import { callerOf } from "../../src/api/auth.ts";
import { oversightRoute } from "../../src/api/oversight-routes.ts";
import { loadConfig } from "../../src/config/load.ts";
import { isFlotillaError } from "../../src/errors.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import type { Check } from "../../src/oversight/check.ts";
import { AbandonedRun, createOversight } from "../../src/oversight/runner.ts";
import { FLEETS_DIR, fleetDir, runCli, waitFor } from "../support/fleet.ts";

const TOKEN = "operator-token-0123456789";
const KEYS = { lead: "key-lead-0123456789" };

test("restart and freeze: operator only, a frozen run never finishes, a restart discards the stuck run", async (t) => {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-oversight-restart-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, "flotilla.yaml"),
    `version: 1
stateDir: ./state
agents:
  - { name: lead, role: coordinator, command: [node, a.js], workspace: ./ws }
`,
  );
  const config = loadConfig(join(dir, "flotilla.yaml")).config;
  const ledger = openSqliteStore(join(config.stateDir, "ledger.db"));
  t.after(() => ledger.close());
  // A check that hangs until the test lets it go, then reports a finding.
  let letGo: () => void = () => {};
  let stuck = true;
  const sticky: Check = {
    name: "sticky",
    async run() {
      if (stuck) await new Promise<void>((resolve) => (letGo = resolve));
      return [
        {
          check: "sticky",
          severity: "warning",
          agent: null,
          article: null,
          evidence: "late",
          suggestion: "none",
          key: "late",
        },
      ];
    },
  };
  const oversight = createOversight({
    config: () => config,
    ledger,
    status: () => [],
    stateDir: config.stateDir,
    checks: [sticky],
  });
  t.after(() => oversight.close());
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    oversightRoute(req, url, callerOf(req, TOKEN, KEYS), { oversight, config: () => config })
      .then((body) => {
        res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" });
        res.end(JSON.stringify(body ?? {}));
      })
      .catch((err: unknown) => {
        res.writeHead(isFlotillaError(err) ? err.status : 500);
        res.end(JSON.stringify({ error: (err as Error).message }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string, key: string) =>
    fetch(`${base}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}` } });

  for (const path of ["/v1/oversight/restart", "/v1/oversight/freeze"]) {
    assert.equal((await post(path, KEYS.lead)).status, 403, `${path} with an agent's key`);
    assert.equal((await post(path, "wrong")).status, 401, `${path} with a wrong token`);
  }
  assert.equal(ledger.query({ kindPrefix: "oversight.restarted" }).length, 0, "a refused call did nothing");

  // A stuck check: the run hangs; restart leaves it behind and starts afresh (the check no longer sticks).
  const stuckRun = oversight.runOnce();
  const stuckOutcome = stuckRun.then(
    () => "finished",
    (err: unknown) => (err instanceof AbandonedRun ? "abandoned" : String(err)),
  );
  stuck = false;
  const restarted = (await (await post("/v1/oversight/restart", TOKEN)).json()) as { runId?: number };
  assert.equal(typeof restarted.runId, "number");
  await waitFor(() => oversight.store.lastRun()?.id === restarted.runId, "the fresh run to finish");
  letGo();
  assert.equal(await stuckOutcome, "abandoned");
  const findings = oversight.store.list({});
  assert.equal(findings.length, 1, "only the fresh run's finding is recorded");
  assert.equal(findings[0]?.runId, restarted.runId);

  // Freeze: the next run does not finish; the heartbeat's last run stays where it was.
  assert.deepEqual(await (await post("/v1/oversight/freeze", TOKEN)).json(), { frozen: true });
  const before = oversight.store.lastRun()?.id;
  const frozenOutcome = oversight.runOnce().then(
    () => "finished",
    (err: unknown) => (err instanceof AbandonedRun ? "abandoned" : String(err)),
  );
  await waitFor(() => ledger.query({ kindPrefix: "oversight.frozen" }).length === 1, "the freeze recorded");
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(oversight.store.lastRun()?.id, before, "a frozen run does not finish");
  const again = (await (await post("/v1/oversight/restart", TOKEN)).json()) as { runId?: number };
  assert.equal(await frozenOutcome, "abandoned");
  await waitFor(() => oversight.store.lastRun()?.id === again.runId, "the run after the freeze to finish");
});

test("on a real fleet: freeze makes the heartbeat stale with the daemon up; oversight restart brings a fresh run", async (t) => {
  const { file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
oversight: { every: 300ms }
agents:
  - { name: idle, command: [${JSON.stringify(process.execPath)}, -e, "setInterval(() => {}, 1000)"], workspace: ./ws }
`,
  );
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  const stateDir = join(file, "..", "state");
  const client = connectDaemon(stateDir);
  type Heartbeat = { stale: boolean; lastRun: { id: number } | null };
  const heartbeat = () => client.get<Heartbeat>("/v1/oversight/status");
  await waitFor(async () => (await heartbeat()).lastRun !== null, "a first oversight run");
  await client.post("/v1/oversight/freeze");
  const frozenAt = (await heartbeat()).lastRun?.id ?? 0;
  await waitFor(async () => (await heartbeat()).stale, "the heartbeat to go stale");
  const status = await client.get<{ oversight: Heartbeat }>("/v1/status");
  assert.equal(status.oversight.stale, true, "flotilla status shows it too, the daemon answering");
  assert.equal(status.oversight.lastRun?.id, frozenAt, "no run finished while frozen");

  const restart = await runCli(["oversight", "restart", "--json", "-c", file]);
  assert.equal(restart.code, 0, restart.stderr);
  const { restarted, runId } = JSON.parse(restart.stdout) as { restarted: boolean; runId: number };
  assert.equal(restarted, true);
  await waitFor(async () => {
    const now = await heartbeat();
    return !now.stale && (now.lastRun?.id ?? 0) >= runId;
  }, "a fresh run and a live heartbeat");
  const words = await runCli(["oversight", "restart", "-c", file]);
  assert.match(words.stdout, /^oversight restarted; run #\d+ started\n$/);
});
