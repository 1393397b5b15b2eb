/** repos[] in flotilla.yaml: the CI source's cross-field rules name the field, and paths resolve against the file. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { FLEETS_DIR, runCli } from "../support/fleet.ts";

function configFile(t: { after: (fn: () => void) => void }, repos: string): string {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-repos-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, `version: 1\nstateDir: ./state\nagents: []\nrepos:\n${repos}`);
  return file;
}

test("validate names the CI field a repository is missing, each once", async (t) => {
  const file = configFile(
    t,
    `  - { path: ./a, ci: { kind: github } }
  - { path: ./b, ci: { kind: command } }
  - { path: ./c, ci: { kind: github, repo: "not a name" } }
  - { path: ./d, ci: { kind: github, repo: acme/d, command: [make] } }
`,
  );
  const result = await runCli(["validate", "-c", file]);
  assert.equal(result.code, 1);
  const lines = result.stderr.trim().split("\n");
  assert.deepEqual(
    lines.map((line) => line.replace(/^.*flotilla\.yaml:\d+: /, "")),
    [
      'repos.0.ci.kind: kind github needs repos.0.ci.repo: "OWNER/NAME" (the repository on GitHub); add it',
      'repos.1.ci.kind: kind command needs repos.1.ci.command: the argv run in a checkout of each commit, such as ["npm", "test"]; add it',
      'repos.2.ci.repo: "not a name" is not OWNER/NAME; write it as on GitHub, such as acme/widgets',
      "repos.3.ci.command: command is for kind: command; a github source reads results from the API",
    ],
  );
  assert.ok(!result.stderr.includes("    at "), "no stack trace");
});

test("repository paths and token files resolve against the config's folder", (t) => {
  const file = configFile(
    t,
    `  - { path: ./widgets.git, ci: { kind: github, repo: acme/widgets, token: { file: ./gh.token } } }\n`,
  );
  const { config } = loadConfig(file);
  const [repo] = config.repos;
  assert.equal(repo?.path, join(file, "..", "widgets.git"));
  assert.deepEqual(repo?.ci?.token, { file: join(file, "..", "gh.token") });
  assert.equal(repo?.ci?.pendingGrace, 30 * 60_000);
  assert.deepEqual(repo?.gate, {});
});
