/**
 * `flotilla drill` refusals through the real CLI against a real fleet: each names what to change, exits
 * non-zero, and leaves the fleet untouched (the agent keeps its pid, the config file its text).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { EXAMPLE_AGENT, fleetDir, freePorts, NODE, runCli, status, waitFor } from "../support/fleet.ts";

test("drill refuses what it cannot do safely, naming the field, and changes nothing", async (t) => {
  const [gatewayPort = 0, simPort = 0, deadPort = 0, keeperPort = 0] = await freePorts(4);
  const { file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
migrations: { lastKnownGoodAfter: 1h }
oversight: { enabled: false }
watchdog: { embedded: false }
gateway: { listen: 127.0.0.1:${gatewayPort} }
simulator: { listen: 127.0.0.1:${simPort} }
providers:
  - { id: sim, kind: openai, baseUrl: http://127.0.0.1:${simPort}/v1, keys: [{ env: SIM_KEY }] }
  - { id: real, kind: openai, baseUrl: http://127.0.0.1:${deadPort}/v1, keys: [{ env: SIM_KEY }] }
models:
  main: [{ provider: sim, model: sim-small }]
  other: [{ provider: real, model: gpt }]
agents:
  - { name: idle, command: [${JSON.stringify(NODE)}, "-e", "setInterval(() => {}, 1e9)"], workspace: ./ws/idle }
  - { name: keeper, command: [${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}], port: ${keeperPort}, workspace: ./ws/keeper, health: { http: /health, interval: 200ms, grace: 5s }, restart: { policy: never } }
`,
  );
  const env = { ...process.env, SIM_KEY: "sim-key" };
  const drill = (...args: string[]) => runCli(["drill", ...args, "-c", file], { env });

  // No daemon yet: every drill names `flotilla up`.
  const down = await drill("kill-agent");
  assert.notEqual(down.code, 0);
  assert.match(down.stderr, /no daemon answers .*start it with "flotilla up"/);

  const up = await runCli(["up", "--detach", "-c", file], { env });
  assert.equal(up.code, 0, up.stderr);
  const running = await waitFor(async () => {
    const rows = await status(file);
    return rows.length > 0 && rows.every((r) => r.state === "running" && r.health.ok !== false)
      ? rows
      : undefined;
  }, "the fleet running");
  const keeperPid = running.find((r) => r.name === "keeper")?.pid;
  const configText = readFileSync(file, "utf8");

  const cases: Array<{ args: string[]; says: RegExp }> = [
    { args: ["explode"], says: /no drill "explode"; the drills are kill-agent, hang-agent/ },
    { args: ["kill-agnet"], says: /did you mean kill-agent/ },
    { args: ["kill-agent", "--timeout", "soon"], says: /--timeout must be a duration such as 30s or 5m/ },
    { args: ["kill-agent", "--agent", "nobody"], says: /no agent "nobody"; the fleet has idle, keeper/ },
    {
      args: ["kill-agent", "--agent", "idle"],
      says: /its restart\.policy is "on-failure".*set agents\.idle\.restart\.policy to never/,
    },
    {
      args: ["hang-agent", "--agent", "idle"],
      says: /give agents\.idle a port and health: \{ http: \/health \}/,
    },
    {
      args: ["slow-start", "--agent", "keeper", "--delay", "30s"],
      says: /agents\.keeper\.health\.grace \(5s\) must be longer than --delay \(30s\)/,
    },
    {
      args: ["slow-start", "--delay", "1m", "--timeout", "30s"],
      says: /--timeout \(30s\) must be longer than --delay \(1m\)/,
    },
    { args: ["corrupt-config"], says: /no last known good yet.*migrations\.lastKnownGoodAfter \(1h0m\)/ },
    {
      args: ["provider-outage", "--provider", "real"],
      says: /refuses provider real: its baseUrl is not a Flotilla simulator/,
    },
    { args: ["provider-outage", "--provider", "nope"], says: /no provider "nope"; the fleet has sim, real/ },
    { args: ["stop-oversight"], says: /oversight\.enabled is false/ },
    // Everything fits, but no watchdog ever ran here: nothing would heal the agent, so it is not killed.
    { args: ["kill-agent"], says: /no watchdog watches .*start it with "flotilla watchdog -c / },
  ];
  for (const { args, says } of cases) {
    const result = await drill(...args);
    assert.notEqual(result.code, 0, `drill ${args.join(" ")} should refuse`);
    assert.match(result.stderr, says, `drill ${args.join(" ")}`);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  }
  const json = await drill("kill-agent", "--agent", "idle", "--json");
  assert.equal(
    (JSON.parse(json.stderr) as { error: { code: string } }).error.code,
    "FLOTILLA_E_DRILL_REFUSED",
  );

  const after = await status(file);
  assert.equal(after.find((r) => r.name === "keeper")?.pid, keeperPid, "the keeper was not killed");
  assert.ok(after.every((r) => r.state === "running"));
  assert.equal(readFileSync(file, "utf8"), configText, "the config file is untouched");
});
