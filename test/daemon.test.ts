/** The daemon in-process: the control API needs its token, and components close in reverse order of start. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ensureStateDir, ensureToken } from "../src/api/daemon-files.ts";
import { validateConfigText } from "../src/config/load.ts";
import { startDaemon } from "../src/daemon.ts";
import { NODE, pidAlive, waitFor } from "./support/fleet.ts";

test("the API refuses calls without the token, and stop closes api → oversight → alerts → migrations → supervisor → ledger → daemon files", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-daemon-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const result = validateConfigText(
    `version: 1\nstateDir: ${join(dir, "state")}\nagents:\n  - { name: sleeper, command: [${JSON.stringify(NODE)}, "-e", "setInterval(() => {}, 1e9)"], workspace: ${join(dir, "ws")} }\n`,
    join(dir, "flotilla.yaml"),
  );
  assert.ok(result.ok);
  const stateDir = join(dir, "state");
  ensureStateDir(stateDir);
  ensureToken(stateDir);
  assert.equal(statSync(stateDir).mode & 0o777, 0o700);
  assert.equal(statSync(join(stateDir, "token")).mode & 0o777, 0o600);
  const token = readFileSync(join(stateDir, "token"), "utf8").trim();
  const daemon = await startDaemon({ loaded: { file: join(dir, "flotilla.yaml"), config: result.config } });
  assert.match(daemon.url, /^http:\/\/127\.0\.0\.1:\d+$/, "the API binds loopback");
  const agent = await waitFor(
    () => daemon.supervisor.status().find((a) => a.state === "running"),
    "the sleeper running",
  );

  assert.equal((await fetch(`${daemon.url}/healthz`)).status, 200);
  const anonymous = await fetch(`${daemon.url}/v1/status`);
  assert.equal(anonymous.status, 401);
  assert.equal(
    ((await anonymous.json()) as { error: { code: string } }).error.code,
    "FLOTILLA_E_UNAUTHORIZED",
  );
  assert.equal(
    (
      await fetch(`${daemon.url}/v1/status`, {
        headers: { authorization: "Bearer wrong-token-of-any-length" },
      })
    ).status,
    401,
  );
  const authorized = await fetch(`${daemon.url}/v1/status`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(authorized.status, 200);
  for (const [method, path] of [
    ["GET", "/v1/config"],
    ["POST", "/v1/config/apply"],
  ] as const) {
    assert.equal(
      (await fetch(`${daemon.url}${path}`, { method })).status,
      401,
      `${method} ${path} needs the token`,
    );
  }
  const events = await fetch(`${daemon.url}/v1/events?agent=sleeper&kind=agent.`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const kinds = ((await events.json()) as { events: Array<{ kind: string }> }).events.map((e) => e.kind);
  assert.deepEqual(kinds.slice(0, 2), ["agent.starting", "agent.running"]);

  const order = await daemon.stop();
  assert.deepEqual(order, [
    "api",
    "oversight",
    "alerts",
    "migrations",
    "supervisor",
    "ledger",
    "daemon-files",
  ]);
  assert.equal(pidAlive(agent.pid ?? 0), false);
  assert.equal(existsSync(join(stateDir, "daemon.json")), false);
  await assert.rejects(fetch(`${daemon.url}/healthz`));
});
