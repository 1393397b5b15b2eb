/** The judge's config: its model must differ from the coordinator's (the field named), its identity is reserved, transcripts name agents. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { formatProblems, validateConfigText } from "../../src/config/load.ts";
import { runCli } from "../support/fleet.ts";
import { scratchDir } from "../support/oversight.ts";

function fleet(oversight: string, coordinatorModel = "main", agents = ""): string {
  return `version: 1
providers:
  - { id: a, kind: openai, baseUrl: http://127.0.0.1:1/v1, keys: [{ env: A_KEY }] }
  - { id: b, kind: openai, baseUrl: http://127.0.0.1:2/v1, keys: [{ env: B_KEY }] }
models:
  main: [{ provider: a, model: big }]
  alias: [{ provider: a, model: big }, { provider: b, model: small }]
  cheap: [{ provider: b, model: small }]
agents:
  - { name: lead, role: coordinator, command: x, workspace: w, model: ${coordinatorModel} }
${agents}oversight: ${oversight}
`;
}

function problems(text: string): string[] {
  const result = validateConfigText(text, "fleet.yaml");
  return result.ok ? [] : formatProblems(result.problems).split("\n");
}

test("a judge model that resolves to the coordinator's is refused at oversight.model", () => {
  const same = problems(fleet("{ model: main }"));
  assert.equal(same.length, 1, same.join("\n"));
  assert.match(
    same[0] ?? "",
    /^fleet\.yaml:\d+: oversight\.model: "main" resolves to the same model as the coordinator lead's "main"/,
  );
  const alias = problems(fleet("{ model: alias }"));
  assert.match(
    alias.join("\n"),
    /oversight\.model: "alias" resolves to the same model as the coordinator lead's "main" \(a\/big\)/,
  );
  assert.deepEqual(problems(fleet("{ model: cheap }")), [], "another model is fine");
  assert.deepEqual(problems(fleet("{ model: main }", "cheap")), [], "so is a coordinator on another model");
  assert.match(
    problems(fleet("{ model: nothing }")).join("\n"),
    /oversight\.model: no logical model "nothing"/,
  );
});

test("no agent may take the judge's identity, and transcripts name agents that exist", () => {
  const taken = problems(
    fleet("{ model: cheap }", "main", "  - { name: oversight, command: x, workspace: w }\n"),
  );
  assert.match(
    taken.join("\n"),
    /agents\.1\.name: the name "oversight" is taken by the oversight judge's gateway identity/,
  );
  const unknown = problems(fleet("{ model: cheap, transcripts: { ghost: /var/log/ghost.jsonl } }"));
  assert.match(unknown.join("\n"), /oversight\.transcripts\.ghost: no agent named "ghost"/);
});

test("flotilla validate names oversight.model for a same-model judge, in one line, exit 1", async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, fleet("{ model: main }"));
  const result = await runCli(["validate", "-c", file]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /flotilla\.yaml:\d+: oversight\.model: "main" resolves to the same model/);
  assert.ok(!/\n\s+at /.test(result.stderr), "no stack trace");
});
