/**
 * Keys that can be revoked: `flotilla key rotate` issues the next version, the gateway refuses the old key
 * by the time the command returns, the agent restarts with the new one, and `key list` shows the versions.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readDaemonInfo } from "../../src/api/daemon-files.ts";
import { fleetDir, freePorts, NODE, runCli, simulatedGateway, waitFor } from "../support/fleet.ts";

const RECORD_KEY = `require('fs').appendFileSync('keys.log', process.env.FLOTILLA_AGENT_KEY + '\\n'); setInterval(() => {}, 1e9);`;

async function post(url: string, key: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body,
  });
  return { status: res.status, text: await res.text() };
}

test("key rotate revokes the old key at once and restarts the agent with the new one", async (t) => {
  const [gatewayPort = 0, simPort = 0] = await freePorts(2);
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
${simulatedGateway(gatewayPort, simPort)}agents:
  - { name: coder, command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(RECORD_KEY)}], workspace: ./ws/coder, model: main }
  - { name: qa, command: [${JSON.stringify(NODE)}, "-e", "setInterval(() => {}, 1e9)"], workspace: ./ws/qa }
`,
  );
  const env = { ...process.env, SIM_KEY: "sim-key" };
  const up = await runCli(["up", "--detach", "-c", file], { env });
  assert.equal(up.code, 0, up.stderr);
  const log = join(dir, "ws/coder/keys.log");
  const keys = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
  const [old = ""] = await waitFor(() => keys().length === 1 && keys(), "the agent's first start");
  assert.match(old, /^flt-coder-v1-/);
  const chat = `http://127.0.0.1:${gatewayPort}/v1/chat/completions`;
  const body = JSON.stringify({ model: "main", messages: [{ role: "user", content: "hi" }] });
  assert.equal((await post(chat, old, body)).status, 200, "the first key works");

  const rotated = await runCli(["key", "rotate", "coder", "--json", "-c", file], { env });
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.deepEqual(
    { ...(JSON.parse(rotated.stdout) as Record<string, unknown>), issuedAt: undefined },
    { agent: "coder", version: 2, issuedAt: undefined, restarted: true, applied: "now" },
  );
  const refused = await post(chat, old, body);
  assert.equal(refused.status, 401, "the old key is refused by the time rotate returns");
  assert.match(refused.text, /unknown, revoked or missing key/);
  const api = readDaemonInfo(join(dir, "state"))?.api;
  const violation = JSON.stringify({
    what: "a report sent with a key that was rotated away a moment before this",
    why: "the test checks that the daemon's agent route refuses a revoked key as well",
    change: "nothing changes for the agent: the route must refuse this request outright",
  });
  assert.equal(
    (await post(`${api}/v1/violations`, old, violation)).status,
    401,
    "so is the daemon's agent route",
  );
  const token = readFileSync(join(dir, "state/token"), "utf8").trim();
  const asOperator = await post(`${api}/v1/violations`, token, violation);
  assert.equal(
    asOperator.status,
    401,
    "an agent route acts for its caller: the operator token is refused there",
  );
  assert.match(asOperator.text, /this route is an agent's: call it with the agent's own key/);

  const [, fresh = ""] = await waitFor(() => keys().length === 2 && keys(), "the restart with the new key");
  assert.match(fresh, /^flt-coder-v2-/);
  assert.equal((await post(chat, fresh, body)).status, 200, "the new key works");
  const listed = await runCli(["key", "list", "--json", "-c", file]);
  const list = (
    JSON.parse(listed.stdout) as { keys: Array<{ agent: string; version: number; issuedAt: string }> }
  ).keys;
  assert.deepEqual(
    list.map((k) => [k.agent, k.version]),
    [
      ["coder", 2],
      ["qa", 1],
    ],
  );
  assert.ok(
    list.every((k) => !Number.isNaN(Date.parse(k.issuedAt))),
    "each version says when it was issued",
  );
  const show = await runCli(["key", "show", "coder", "-c", file]);
  assert.equal(show.stdout.trim(), fresh);
  const unknown = await runCli(["key", "rotate", "nobody", "-c", file]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no agent named "nobody" \(agents: coder, qa\)/);
});
