/**
 * The oversight routes over real HTTP on loopback: the operator runs, lists and acknowledges; an agent
 * acknowledges only a finding about itself or a critical fleet finding injected into its session (it is
 * the coordinator), and can neither run the pass nor read the findings.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { callerOf } from "../../src/api/auth.ts";
import { oversightRoute } from "../../src/api/oversight-routes.ts";
import { loadConfig } from "../../src/config/load.ts";
import { isFlotillaError } from "../../src/errors.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import type { FindingDraft } from "../../src/oversight/finding.ts";
import { createOversight } from "../../src/oversight/runner.ts";
import { FLEETS_DIR } from "../support/fleet.ts";

const TOKEN = "operator-token-0123456789";
const KEYS = { lead: "key-lead-0123456789", coder: "key-coder-0123456789" };

test("who may acknowledge which finding, run the pass and read the findings", async (t) => {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-oversight-routes-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, "flotilla.yaml"),
    `version: 1
stateDir: ./state
agents:
  - { name: lead, role: coordinator, command: [node, a.js], workspace: ./ws }
  - { name: coder, command: [node, a.js], workspace: ./ws }
`,
  );
  const config = loadConfig(join(dir, "flotilla.yaml")).config;
  const ledger = openSqliteStore(join(config.stateDir, "ledger.db"));
  t.after(() => ledger.close());
  const oversight = createOversight({
    config: () => config,
    ledger,
    status: () => [],
    stateDir: config.stateDir,
    checks: [],
  });
  t.after(() => oversight.close());
  const draft = (agent: string | null, severity: FindingDraft["severity"], key: string): FindingDraft => ({
    check: "liveness",
    severity,
    agent,
    article: null,
    evidence: `evidence ${key}`,
    suggestion: "do something",
    key,
  });
  const [coderOwn, fleetCritical, fleetWarning] = oversight.store.report(
    1,
    Date.now(),
    [draft("coder", "warning", "a"), draft(null, "critical", "b"), draft(null, "warning", "c")],
    () => null,
  );
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
  const call = (method: string, path: string, key: string) =>
    fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
  const ack = (id: string | undefined, key: string) => call("POST", `/v1/oversight/findings/${id}/ack`, key);

  assert.equal(
    (await ack(coderOwn?.id, KEYS.lead)).status,
    404,
    "the coordinator may not ack the coder's own finding",
  );
  assert.equal((await ack(fleetWarning?.id, KEYS.lead)).status, 404, "a warning is not injected");
  assert.equal(
    (await ack(fleetCritical?.id, KEYS.coder)).status,
    404,
    "not injected into the coder's session",
  );
  assert.equal((await ack("999", KEYS.coder)).status, 404);
  assert.equal((await ack(fleetCritical?.id, "wrong")).status, 401);
  assert.equal((await call("POST", "/v1/oversight/run", KEYS.lead)).status, 401);
  assert.equal((await call("GET", "/v1/oversight/findings", KEYS.coder)).status, 401);

  const injected = await ack(fleetCritical?.id, KEYS.lead);
  assert.equal(injected.status, 200);
  assert.equal(
    ((await injected.json()) as { finding: { acknowledgedBy: string } }).finding.acknowledgedBy,
    "lead",
  );
  assert.equal((await ack(coderOwn?.id, KEYS.coder)).status, 200);
  const listed = (await (await call("GET", "/v1/oversight/findings?state=open", TOKEN)).json()) as {
    findings: Array<{ id: string }>;
  };
  assert.deepEqual(
    listed.findings.map((f) => f.id),
    [fleetWarning?.id],
  );
  assert.equal((await call("GET", "/v1/oversight/findings?state=closed", TOKEN)).status, 400);
  const run = (await (await call("POST", "/v1/oversight/run", TOKEN)).json()) as { run: { outcome: string } };
  assert.equal(run.run.outcome, "ok");
});
