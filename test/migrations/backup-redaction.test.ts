/** A backup replaces the value of every secret the config references, wherever it appears, with its reference. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { writeManagedFile } from "../../src/config/managed-files.ts";
import { createBackup, readBackup } from "../../src/migrations/backups.ts";
import { FLEETS_DIR } from "../support/fleet.ts";

/** Backs up the fleet in `dir` (its flotilla.yaml holds `text`) and returns the backup's copy of `path`. */
function backedUp(dir: string, text: string, env: NodeJS.ProcessEnv, path?: string): string {
  writeFileSync(join(dir, "flotilla.yaml"), text);
  const loaded = loadConfig(join(dir, "flotilla.yaml"));
  const manifest = createBackup({
    stateDir: loaded.config.stateDir,
    configFile: loaded.file,
    configText: text,
    config: loaded.config,
    reason: "test",
    keep: 5,
    env,
  });
  return readBackup(loaded.config.stateDir, manifest.id).contents.get(path ?? loaded.file) ?? "";
}

test("a backup redacts provider, OAuth, agent, alert, CI and injection secrets alike", (t) => {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-redact-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = {
    R_KEY: "sk-provider-key-value",
    R_CLIENT: "oauth-client-secret-value",
    R_AGENT: "agent-env-secret-value",
    R_HOOK: "https://hooks.example/secret-hook-path",
    R_CI: "ghp_ci-token-secret-value",
    R_INJECT: "openclaw-inject-token-value",
  };
  writeFileSync(join(dir, "bot-token"), "telegram-bot-token-value\n");
  const text = `version: 1
stateDir: ./state
providers:
  - id: p
    kind: openai
    baseUrl: "http://127.0.0.1:1/v1"
    keys: [{ env: R_KEY }]
    auth: { kind: oauth2, tokenUrl: "http://127.0.0.1:1/token", clientSecret: { env: R_CLIENT } }
alerts:
  - { id: hook, kind: webhook, url: { env: R_HOOK } }
  - { id: bot, kind: telegram, token: { file: ./bot-token }, chatId: "1" }
repos:
  - { path: ./ws, ci: { kind: github, repo: o/app, token: { env: R_CI } } }
oversight: { inject: { token: { env: R_INJECT } } }
agents:
  - { name: a, command: x, workspace: ./ws, env: { TOKEN: { env: R_AGENT } } }
`;
  const values = [...Object.values(env), "telegram-bot-token-value"];
  const managed = join(dir, "generated.txt");
  writeManagedFile(join(dir, "state"), managed, `${values.join("\n")}\n`);
  const copy = backedUp(dir, text, env, managed);
  assert.ok(copy.length > 0, "the managed file is in the backup");
  for (const value of values) assert.ok(!copy.includes(value), `the backup holds no ${value}`);
  assert.match(copy, /<secret env:R_CI>/);
  assert.match(copy, /<secret env:R_INJECT>/);
  assert.match(copy, /<secret file:[^>]*bot-token>/);
  assert.ok(
    readFileSync(managed, "utf8").includes("ghp_ci-token-secret-value"),
    "the live file is untouched",
  );
});

test("the simulator's own keys stay in a backup: the starter fleet's config is backed up whole and can be restored", (t) => {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-redact-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "sim.key"), "sim-demo-key\n");
  const text = `version: 1
stateDir: ./state
simulator: { listen: "127.0.0.1:48419", keys: { sim-demo-key: { rpm: 120 } } }
providers: [{ id: sim, kind: openai, baseUrl: "http://127.0.0.1:48419/v1", keys: [{ file: ./sim.key }] }]
agents:
  - { name: a, command: x, workspace: ./ws }
`;
  assert.equal(backedUp(dir, text, {}), text);
});
