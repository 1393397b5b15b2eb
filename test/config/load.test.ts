/** Config validation names every wrong field with its file and line, and gives retired keys a hint. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatProblems, validateConfigText } from "../../src/config/load.ts";
import { configJsonSchema } from "../../src/config/schema.ts";
import { parseBurst, parseDuration, parseSize } from "../../src/config/units.ts";

function problems(text: string): string[] {
  const result = validateConfigText(text, "fleet.yaml");
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : formatProblems(result.problems).split("\n");
}

test("units parse durations, sizes and bursts", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("15m"), 900_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("30"), undefined);
  assert.equal(parseSize("512M"), 512 * 1024 ** 2);
  assert.equal(parseSize("2GiB"), 2 * 1024 ** 3);
  assert.equal(parseSize("lots"), undefined);
  assert.deepEqual(parseBurst("5/10m"), { count: 5, windowMs: 600_000 });
  assert.equal(parseBurst("0/10m"), undefined);
});

test("defaults fill in: restart delay 30s, burst 5/10m, process health, 10s stopTimeout", () => {
  const result = validateConfigText(
    "version: 1\nagents:\n  - { name: a, command: run, workspace: w }\n",
    "f.yaml",
  );
  assert.ok(result.ok);
  const agent = result.config.agents[0];
  assert.equal(agent?.restart.delay, 30_000);
  assert.deepEqual(agent?.restart.burst, { count: 5, windowMs: 600_000 });
  assert.ok(agent && "process" in agent.health);
  assert.equal(agent?.stopTimeout, 10_000);
  assert.equal(result.config.api.listen, "127.0.0.1:0", "the control API binds loopback by default");
});

test("each problem is file:line: path: message", () => {
  const lines = problems(`version: 1
agents:
  - name: a
    command: run
    workspace: w
    restart: { delay: soon }
  - name: B
    workspace: w
`);
  assert.deepEqual(lines, [
    'fleet.yaml:6: agents.0.restart.delay: must be a duration such as "30s" (units: ms, s, m, h, d)',
    "fleet.yaml:7: agents.1.name: must be lower-case letters, digits and dashes, starting with a letter",
    'fleet.yaml:7: agents.1.command: is required; see "flotilla schema" for what to write',
  ]);
});

test("duplicate names and ports are named with both places", () => {
  const lines = problems(`version: 1
agents:
  - { name: a, command: run, workspace: w, port: 4000 }
  - { name: a, command: run, workspace: w, port: 4000 }
`);
  assert.equal(lines.length, 2);
  assert.match(
    lines[0] ?? "",
    /^fleet\.yaml:4: agents\.1\.name: duplicate agent name "a" \(also agents\.0\)/,
  );
  assert.match(lines[1] ?? "", /^fleet\.yaml:4: agents\.1\.port: port 4000 is also used by agents\.0/);
});

test("retired and unknown keys get a hint; broken YAML names its line", () => {
  const lines = problems(
    "version: 1\nagents:\n  - name: a\n    cmd: run\n    command: run\n    workspace: w\n    colour: red\n",
  );
  assert.deepEqual(lines, [
    'fleet.yaml:4: agents.0: "cmd" is retired: renamed to "command"; unknown key "colour"; remove it or check its spelling',
  ]);
  const yaml = problems("version: 1\nagents: [ { name: a\n");
  assert.match(yaml[0] ?? "", /^fleet\.yaml:\d+:\d+: \(yaml\): .*; fix the YAML syntax$/);
  assert.deepEqual(problems("- just\n- a list\n"), [
    'fleet.yaml:1: (root): must be a mapping; start with "version: 1"',
  ]);
});

test("an http probe without a port is rejected with what to do", () => {
  const lines = problems(
    "version: 1\nagents:\n  - { name: a, command: run, workspace: w, health: { http: /health } }\n",
  );
  assert.match(lines[0] ?? "", /agents\.0\.health: an http or tcp probe needs the agent's port/);
});

test("the JSON Schema describes the input form", () => {
  const schema = configJsonSchema() as { properties: Record<string, { description?: string }> };
  assert.ok(schema.properties.agents);
  assert.equal(
    schema.properties.stateDir?.description,
    "Ledger, logs, run files and the API token (mode 0700)",
  );
});

test("gateway config: OAuth2 auth is checked field by field, and the simulator's name is reserved", () => {
  const oauth = problems(`version: 1
providers:
  - id: p
    kind: anthropic
    baseUrl: http://127.0.0.1:1
    keys: [{ env: REFRESH }]
    auth: { kind: oauth2, tokenUrl: not-a-url, clientSecret: "inline-secret", refreshBefore: soon }
`);
  assert.ok(
    oauth.some((p) => /^fleet\.yaml:7: providers\.0\.auth\.tokenUrl: must be a URL/.test(p)),
    oauth.join("\n"),
  );
  assert.ok(
    oauth.some((p) => /providers\.0\.auth\.clientSecret: must be a reference, \{ env: NAME \}/.test(p)),
    "an inline secret is refused, saying what to write",
  );
  assert.ok(oauth.some((p) => /providers\.0\.auth\.refreshBefore: must be a duration/.test(p)));
  const reserved = problems(`version: 1
simulator: { listen: 127.0.0.1:48301 }
agents:
  - { name: simulator, command: run, workspace: w }
`);
  assert.match(
    reserved.join("\n"),
    /fleet\.yaml:4: agents\.0\.name: the name "simulator" is taken by the provider simulator/,
  );
});
