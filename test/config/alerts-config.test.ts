/** Alert channels and injection in flotilla.yaml: what each channel kind needs, unique ids, names that must exist, file paths resolved. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatProblems, resolveConfig, validateConfigText } from "../../src/config/load.ts";
import { secretEnvNames } from "../../src/config/secrets.ts";

const AGENTS = `version: 1
agents:
  - { name: boss, role: coordinator, command: run, workspace: w }
`;

function problems(text: string): string[] {
  const result = validateConfigText(AGENTS + text, "fleet.yaml");
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : formatProblems(result.problems).split("\n");
}

test("each channel kind names the field it lacks, and a repeated id names both places", () => {
  assert.deepEqual(
    problems(`alerts:
  - { id: a, kind: slack }
  - { id: b, kind: telegram, token: { env: TG } }
  - { id: c, kind: file }
  - { id: a, kind: discord, url: { env: D } }
  - { id: d, kind: webhook, url: "https://hooks.example/abc" }
`),
    [
      'fleet.yaml:9: alerts.4.url: must be a reference, { env: NAME } or { file: path }, never the secret itself; see "flotilla schema" for the accepted shapes',
      "fleet.yaml:5: alerts.0.url: a slack channel needs url (a secret reference, { env: NAME } or { file: path })",
      "fleet.yaml:6: alerts.1.chatId: a telegram channel needs chatId",
      "fleet.yaml:7: alerts.2.path: a file channel needs path",
      'fleet.yaml:8: alerts.3.id: duplicate alert channel id "a" (also alerts.0); give each channel its own id',
    ],
  );
});

test("oversight.alerts naming an unknown channel, inject.agent naming an unknown agent, and command with url", () => {
  assert.deepEqual(
    problems(`oversight:
  alerts: [ops, pager]
  inject: { agent: nobody, command: [notify], url: "http://127.0.0.1:9/in" }
alerts:
  - { id: ops, kind: stdout }
`),
    [
      'fleet.yaml:5: oversight.alerts.1: no alert channel "pager" (alerts: ops); add it under alerts or fix the id',
      'fleet.yaml:6: oversight.inject.agent: no agent named "nobody" (agents: boss)',
      "fleet.yaml:6: oversight.inject.url: set command or url, not both: the message goes one way",
    ],
  );
});

test("defaults, relative paths and the secrets the CLI hands over", () => {
  const result = validateConfigText(
    `${AGENTS}oversight: { inject: { token: { env: CLAW_TOKEN } } }
alerts:
  - { id: log, kind: file, path: ./alerts.jsonl }
  - { id: tg, kind: telegram, token: { file: ./tg-token }, chatId: "7" }
  - { id: hook, kind: webhook, url: { env: HOOK_URL } }
`,
    "/srv/fleet/flotilla.yaml",
  );
  assert.ok(result.ok);
  const { config } = resolveConfig(result.config, "/srv/fleet/flotilla.yaml");
  const [log, tg, hook] = config.alerts;
  assert.equal(log?.path, "/srv/fleet/alerts.jsonl");
  assert.deepEqual(tg?.token, { file: "/srv/fleet/tg-token" });
  assert.equal(tg?.apiUrl, "https://api.telegram.org");
  assert.deepEqual([hook?.minSeverity, hook?.throttle, hook?.timeout], ["warning", 1_800_000, 10_000]);
  const inject = config.oversight.inject;
  assert.deepEqual([inject.sessionKey, inject.timeout, inject.escalateAfter], ["main", 120_000, 3]);
  assert.deepEqual(secretEnvNames(config).sort(), ["CLAW_TOKEN", "HOOK_URL"]);
});
