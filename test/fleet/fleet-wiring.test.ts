/** How the gateway and the simulator join a fleet: supervised processes of their own; only the gateway gets the provider secrets. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { fleetWiring } from "../../src/fleet/fleet-wiring.ts";
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
  const wiring = fleetWiring(loaded);
  assert.deepEqual(
    wiring.internal.map((p) => [p.name, p.port, p.command.slice(-3)]),
    [
      ["simulator", 48311, ["sim", "--config", file]],
      ["gateway", 48310, ["gateway", "--config", file]],
    ],
  );
  assert.deepEqual(wiring.internal[0]?.env, {}, "the simulator holds no secret");
  assert.deepEqual(Object.keys(wiring.internal[1]?.env ?? {}).sort(), [
    "CLIENT_SECRET",
    "PLAIN_KEY",
    "REFRESH_TOKEN",
  ]);
  assert.deepEqual(wiring.agentEnv.coder, {
    FLOTILLA_AGENT_KEY: virtualKey(loaded.config.stateDir, "coder"),
    FLOTILLA_GATEWAY_URL: "http://127.0.0.1:48310",
    OPENAI_BASE_URL: "http://127.0.0.1:48310/v1",
    OPENAI_API_KEY: virtualKey(loaded.config.stateDir, "coder"),
    ANTHROPIC_BASE_URL: "http://127.0.0.1:48310",
    ANTHROPIC_API_KEY: virtualKey(loaded.config.stateDir, "coder"),
    FLOTILLA_MODEL: "main",
  });
  assert.equal(wiring.agentEnv.qa?.FLOTILLA_MODEL, undefined, "no model named, none injected");
});
