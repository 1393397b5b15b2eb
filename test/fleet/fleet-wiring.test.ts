/** How the gateway and the simulator join a fleet: supervised processes of their own; only the gateway gets the provider secrets. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { agentKeyEnv, daemonEnv, fleetWiring, gatewayInput } from "../../src/fleet/fleet-wiring.ts";
import { virtualKey } from "../../src/gateway/virtual-keys.ts";

test("the simulator and the gateway are supervised before the agents; secrets go to the gateway only; agents get URLs and their key", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-wiring-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "flotilla.yaml");
  mkdirSync(join(dir, "state"), { mode: 0o700 }); // flotilla up creates it before wiring
  writeFileSync(
    file,
    `version: 1
stateDir: ./state
gateway: { listen: 127.0.0.1:48310 }
simulator: { listen: 127.0.0.1:48311 }
providers:
  - { id: plain, kind: openai, baseUrl: http://127.0.0.1:48311/v1, keys: [{ env: PLAIN_KEY }, { file: ./key }] }
  - id: oauth
    kind: anthropic
    baseUrl: http://127.0.0.1:48311
    keys: [{ env: REFRESH_TOKEN }]
    auth: { kind: oauth2, tokenUrl: http://127.0.0.1:48311/oauth/token, clientSecret: { env: CLIENT_SECRET } }
models:
  main: [{ provider: plain, model: sim-large }]
agents:
  - { name: coder, command: x, workspace: ./ws, model: main }
  - { name: qa, command: x, workspace: ./ws2 }
`,
  );
  const loaded = loadConfig(file);
  const wiring = fleetWiring(loaded, {});
  assert.deepEqual(
    wiring.internal.map((p) => [p.name, p.port, p.command.slice(-3)]),
    [
      ["simulator", 48311, ["sim", "--config", file]],
      ["gateway", 48310, ["--config", file, "--secrets-stdin"]],
    ],
  );
  assert.deepEqual(wiring.internal[0]?.env, {}, "the simulator holds no secret");
  assert.deepEqual(wiring.internal[1]?.env, {}, "the gateway's secrets travel on its stdin, not its env");
  const env = { PLAIN_KEY: "sk-plain", REFRESH_TOKEN: "rt-1", CLIENT_SECRET: "cs-1", HOME: "/home/op" };
  assert.deepEqual(fleetWiring(loaded, env).secrets, {
    PLAIN_KEY: "sk-plain",
    REFRESH_TOKEN: "rt-1",
    CLIENT_SECRET: "cs-1",
  });
  assert.deepEqual(daemonEnv(loaded.config, env), { HOME: "/home/op" }, "the daemon starts without them");
  const proxied = { ...env, HTTPS_PROXY: "http://user:pw@proxy:3128", NO_PROXY: "localhost" };
  assert.deepEqual(daemonEnv(loaded.config, proxied), { HOME: "/home/op" }, "nor the proxy settings");
  assert.deepEqual(JSON.parse(gatewayInput(loaded.config, fleetWiring(loaded, proxied))), {
    env: { PLAIN_KEY: "sk-plain", REFRESH_TOKEN: "rt-1", CLIENT_SECRET: "cs-1" },
    proxy: { HTTPS_PROXY: "http://user:pw@proxy:3128", NO_PROXY: "localhost" },
  });
  assert.deepEqual(
    fleetWiring(loaded, { ...env, NODE_EXTRA_CA_CERTS: "/etc/ca.pem" }).internal[1]?.env,
    { NODE_EXTRA_CA_CERTS: "/etc/ca.pem" },
    "a private CA's file reaches the gateway's environment, as Node reads it only from there",
  );
  assert.deepEqual(wiring.agentEnv.coder, {
    FLOTILLA_GATEWAY_URL: "http://127.0.0.1:48310",
    OPENAI_BASE_URL: "http://127.0.0.1:48310/v1",
    ANTHROPIC_BASE_URL: "http://127.0.0.1:48310",
    FLOTILLA_MODEL: "main",
  });
  const coder = loaded.config.agents[0];
  assert.ok(coder);
  const key = virtualKey(loaded.config.stateDir, "coder");
  assert.match(key, /^flt-coder-v1-/, "version 1 was issued when the fleet was wired");
  assert.deepEqual(agentKeyEnv(loaded.config, coder, key), {
    FLOTILLA_AGENT_KEY: key,
    OPENAI_API_KEY: key,
    ANTHROPIC_API_KEY: key,
  });
  assert.equal(wiring.agentEnv.qa?.FLOTILLA_MODEL, undefined, "no model named, none injected");
});
