/**
 * The fleet's gateway honours the proxy settings of the environment the fleet started in: they reach the
 * gateway on its stdin (a proxy URL may carry credentials), not through its environment or the agents'.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { allRunning, fleetDir, freePorts, NODE, runCli, simulatedGateway } from "../support/fleet.ts";
import { recordingProxy } from "../support/recording-proxy.ts";

test("the daemon's gateway sends model calls through HTTP_PROXY, which stays out of every environment", async (t) => {
  const proxy = await recordingProxy(t);
  const proxyUrl = proxy.url.replace("http://", "http://fleet:s3cret@");
  const [gatewayPort = 0, simPort = 0] = await freePorts(2);
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
${simulatedGateway(gatewayPort, simPort)}agents:
  - { name: coder, command: [${JSON.stringify(NODE)}, "-e", "setInterval(() => {}, 1e9)"], workspace: ./ws/coder }
`,
  );
  const env = { ...process.env, SIM_KEY: "sim-key", HTTP_PROXY: proxyUrl, NO_PROXY: "" };
  const up = await runCli(["up", "--detach", "-c", file], { env });
  assert.equal(up.code, 0, up.stderr);
  const rows = await allRunning(file);
  const key = (await runCli(["key", "show", "coder", "-c", file])).stdout.trim();
  const res = await fetch(`http://127.0.0.1:${gatewayPort}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "main", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(res.status, 200, await res.text());
  assert.deepEqual(proxy.seen, [`POST http://127.0.0.1:${simPort}/v1/chat/completions`]);
  const daemon = JSON.parse(readFileSync(join(dir, "state/daemon.json"), "utf8")) as { pid: number };
  for (const [name, pid] of [...rows.map((r) => [r.name, r.pid] as const), ["daemon", daemon.pid] as const]) {
    const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
    assert.ok(!environ.includes("s3cret"), `${name}'s environment holds no proxy credentials`);
  }
});
