/**
 * The trust boundary, tried as a hostile agent would: under the default isolation (a bubblewrap sandbox) a
 * probe agent cannot read the daemon's or the gateway's environment, the state dir's token and secret, or
 * another agent's workspace, cannot forge another agent's key, and is refused on every operator route with
 * its own key. The same probe under `isolation: none` succeeds at the reads and forgeries, so the test can fail.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import {
  allRunning,
  fleetDir,
  freePorts,
  NODE,
  ROOT,
  runCli,
  simulatedGateway,
  status,
  waitFor,
} from "../support/fleet.ts";

const PROBE = join(ROOT, "test/support/hostile-agent.ts");
const SLEEPER = "setInterval(() => {}, 1e9)";

interface Found {
  visibleProcesses: number;
  keyLeaksInProc: number;
  daemonEnvironRead: boolean;
  gatewayEnvironRead: boolean;
  tokenRead: boolean;
  secretRead: boolean;
  otherWorkspaceRead: boolean;
  forgedAtGateway: number;
  forgedViolation: number;
  ownKeyOnOperatorRoutes: Record<string, number>;
  tokenOnStatus: number | null;
  /** Every answer the probe got, for the failure messages. */
  answers: string[];
}

async function probe(t: TestContext, isolation: string): Promise<Found> {
  const [gatewayPort = 0, simPort = 0] = await freePorts(2);
  const realKey = `sk-REALKEY-${randomBytes(12).toString("hex")}`;
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
isolation: ${isolation}
${simulatedGateway(gatewayPort, simPort, "REAL_PROVIDER_KEY")}agents:
  - name: probe
    command: [${JSON.stringify(NODE)}, ${JSON.stringify(PROBE)}]
    workspace: ./ws/probe
    model: main
  - name: other
    command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(SLEEPER)}]
    workspace: ./ws/other
`,
  );
  mkdirSync(join(dir, "ws/other"), { recursive: true });
  writeFileSync(join(dir, "ws/other/notes.txt"), "the other agent's private notes\n");
  const env = { ...process.env, REAL_PROVIDER_KEY: realKey };
  const up = await runCli(["up", "--detach", "-c", file], { env });
  assert.equal(up.code, 0, up.stderr);
  const rows = await allRunning(file);
  const daemon = JSON.parse(readFileSync(join(dir, "state/daemon.json"), "utf8")) as { pid: number };
  writeFileSync(
    join(dir, "ws/probe/targets.json"),
    JSON.stringify({
      stateDir: join(dir, "state"),
      otherWorkspace: join(dir, "ws/other"),
      otherAgent: "other",
      daemonPid: daemon.pid,
      gatewayPid: rows.find((r) => r.name === "gateway")?.pid,
      realKeyPrefix: realKey,
    }),
  );
  const report = join(dir, "ws/probe/probe.json");
  await waitFor(() => existsSync(report), "the probe's report", 30_000);
  const found = JSON.parse(readFileSync(report, "utf8")) as Found;
  const after = await status(file);
  assert.ok(
    after.every((r) => r.state === "running"),
    `nothing the probe did disturbed the fleet: ${JSON.stringify(after.map((r) => [r.name, r.state]))}`,
  );
  return found;
}

test("a sandboxed agent can read and forge nothing that governs it", async (t) => {
  const found = await probe(t, "sandbox");
  assert.equal(found.keyLeaksInProc, 0, "no environ or cmdline it can read holds the real key");
  assert.ok(
    found.visibleProcesses <= 4,
    `it sees only its own sandbox's processes (${found.visibleProcesses})`,
  );
  assert.equal(found.daemonEnvironRead, false, "the daemon's /proc entry is out of sight");
  assert.equal(found.gatewayEnvironRead, false, "the gateway's /proc entry is out of sight");
  assert.equal(found.tokenRead, false, "the operator token is hidden");
  assert.equal(found.secretRead, false, "the gateway secret is hidden");
  assert.equal(found.otherWorkspaceRead, false, "another agent's workspace is hidden");
  assert.equal(found.forgedAtGateway, 401, "a key forged for another agent is refused by the gateway");
  assert.equal(found.forgedViolation, 401, "and by the daemon's agent route");
  for (const [route, code] of Object.entries(found.ownKeyOnOperatorRoutes))
    assert.equal(code, 401, `its own key is refused on ${route}`);
  assert.equal(found.tokenOnStatus, null, "it never had the token to try");
});

test("the same probe without isolation reads the token and secret and forges another agent's key", async (t) => {
  const found = await probe(t, "none");
  assert.equal(
    found.keyLeaksInProc,
    0,
    "the real key is in no environment even so: it reached the gateway on stdin",
  );
  assert.ok(found.gatewayEnvironRead, "without a sandbox the gateway's environ is readable");
  assert.ok(
    found.tokenRead && found.secretRead && found.otherWorkspaceRead,
    "state dir and workspace readable",
  );
  assert.notEqual(found.forgedAtGateway, 401, "a key derived from the stolen secret passes the gateway");
  assert.equal(
    found.forgedViolation,
    201,
    `and files a violation as the other agent: ${found.answers.join("\n")}`,
  );
  assert.equal(found.tokenOnStatus, 200, "the stolen token opens the operator routes");
  for (const [route, code] of Object.entries(found.ownKeyOnOperatorRoutes))
    assert.equal(code, 401, `its own key is still refused on ${route}`);
});
