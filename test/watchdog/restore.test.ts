/**
 * The watchdog's restore of the last known good on real fleets: refused when there is none, when its
 * backup is missing or damaged, when the live file already is it, or when its config holds a placeholder;
 * an invalid live config is restored with the daemon up and with it down; a managed file whose backup copy
 * holds a redaction placeholder keeps its live content (a planted secret survives); keys added since the
 * last known good are carried over, and only the recorded last known good is ever restored.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readDaemonInfo } from "../../src/api/daemon-files.ts";
import { loadConfig } from "../../src/config/load.ts";
import { listBackups, readBackup } from "../../src/migrations/backups.ts";
import { readLastKnownGood } from "../../src/migrations/last-known-good.ts";
import type { RecoverContext } from "../../src/watchdog/recover/restart.ts";
import { restoreLastKnownGood } from "../../src/watchdog/recover/restore.ts";
import { EXAMPLE_AGENT, NODE, fleetDir, freePorts, runCli, status, waitFor } from "../support/fleet.ts";
import { ledgerEvents } from "../support/migrations.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const PLANTED = "planted-secret-0123456789";
const CORRUPT = "version: 1\nagents: [\n  - { name: alpha\n";
const MIGRATIONS = "migrations: { healthTimeout: 20s, healthyFor: 300ms, lastKnownGoodAfter: 1s }\n";

function agent(port: number, env = "") {
  return `  - { name: alpha, command: [${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}], port: ${port}, workspace: ./ws/alpha, health: { http: /health, interval: 100ms, grace: 10s }, restart: { delay: 200ms }, stopTimeout: 3s${env} }`;
}

const healthy = (file: string) =>
  waitFor(
    async () => {
      const rows = await status(file);
      return rows.every((r) => r.state === "running" && r.health.ok === true) ? rows : undefined;
    },
    "the fleet healthy",
    30_000,
  );

function lkgText(stateDir: string): { id: string; text: string } {
  const lkg = readLastKnownGood(stateDir);
  assert.ok(lkg, "a last known good");
  const { manifest, contents } = readBackup(stateDir, lkg.backupId);
  const entry = manifest.files.find((f) => f.role === "config");
  return { id: lkg.backupId, text: contents.get(entry?.path ?? "") ?? "" };
}

test("refusals: no last known good, a missing or damaged backup, a placeholder in its config; nothing is written", async (t) => {
  const [port] = await freePorts(1);
  const { dir, file } = fleetDir(t, `version: 1\nstateDir: ./state\nagents:\n${agent(port ?? 0)}\n`);
  const ctx: RecoverContext = {
    config: loadConfig(file).config,
    configFile: file,
    timeoutMs: 30_000,
    env: process.env,
  };
  const live = readFileSync(file, "utf8");
  const none = await restoreLastKnownGood(ctx);
  assert.equal(none.outcome, "refused");
  assert.equal(none.reason, "no last known good yet");
  assert.equal(none.fromSha256, sha256(live));

  const lkgFile = join(dir, "state/last-known-good.json");
  mkdirSync(join(dir, "state"), { recursive: true });
  writeFileSync(lkgFile, JSON.stringify({ backupId: "nope", at: Date.now(), configFile: file }));
  const missing = await restoreLastKnownGood(ctx);
  assert.equal(missing.outcome, "refused");
  assert.match(
    missing.reason ?? "",
    /^the last known good backup nope is missing or damaged: no backup "nope"/,
  );

  const made = await runCli(["backup", "--json", "-c", file]);
  assert.equal(made.code, 0, made.stderr);
  const { id, files } = JSON.parse(made.stdout) as {
    id: string;
    files: Array<{ role: string; copy: string }>;
  };
  writeFileSync(lkgFile, JSON.stringify({ backupId: id, at: Date.now(), configFile: file }));
  const copy = join(dir, "state/backups", id, "files", files.find((f) => f.role === "config")?.copy ?? "");
  writeFileSync(copy, live.replace("stateDir: ./state", "stateDir: ./state\n# <secret env:SIM_KEY>"));
  writeFileSync(file, `${live}# edited\n`);
  const placeholder = await restoreLastKnownGood(ctx);
  assert.equal(placeholder.outcome, "refused");
  assert.match(
    placeholder.reason ?? "",
    /holds a redaction placeholder; restoring it would write the placeholder over a secret/,
  );
  rmSync(copy);
  const damaged = await restoreLastKnownGood(ctx);
  assert.equal(damaged.outcome, "refused");
  assert.match(
    damaged.reason ?? "",
    new RegExp(`^the last known good backup ${id} is missing or damaged: .*ENOENT`),
  );
  assert.equal(readFileSync(file, "utf8"), `${live}# edited\n`, "no refusal writes the live file");
  assert.equal(listBackups(ctx.config.stateDir).length, 1, "and none takes a backup");
});

test("an invalid live config is restored with the daemon up and with it down; a planted secret in a managed file survives", async (t) => {
  const [port] = await freePorts(1);
  const env = { ...process.env, PLANTED };
  const { dir, file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\n${MIGRATIONS}agents:\n${agent(port ?? 0, ", env: { DEPLOY_TOKEN: { env: PLANTED } }")}\n`,
  );
  // The operator pasted the token into the constitution: every backup copy of it (and of the briefs
  // quoting it) holds a placeholder where the token was.
  const constitution = join(dir, "constitution.md");
  const articles = `# Constitution\n\n## Article I: Quality first\n\nDo it well.\n\n## Article II: Deploys\n\nDeploy with ${PLANTED}.\n`;
  writeFileSync(constitution, articles);
  assert.equal((await runCli(["up", "--detach", "-c", file], { env })).code, 0);
  const ctx: RecoverContext = { config: loadConfig(file).config, configFile: file, timeoutMs: 60_000, env };
  await healthy(file);
  await waitFor(() => readLastKnownGood(ctx.config.stateDir), "a last known good", 20_000);
  const lkg = lkgText(ctx.config.stateDir);
  assert.equal(readFileSync(file, "utf8"), lkg.text);

  const backups = listBackups(ctx.config.stateDir).length;
  const same = await restoreLastKnownGood(ctx);
  assert.equal(same.outcome, "refused");
  assert.equal(same.reason, "already on the last known good");
  assert.equal(listBackups(ctx.config.stateDir).length, backups, "a refusal takes no backup");

  writeFileSync(file, CORRUPT);
  const up = await restoreLastKnownGood(ctx);
  assert.equal(up.outcome, "applied", up.reason);
  assert.equal(up.backupId, lkg.id);
  assert.equal(readFileSync(file, "utf8"), lkg.text, "the live file is the last known good again");
  assert.equal(up.fromSha256, sha256(CORRUPT));
  assert.equal(up.toSha256, sha256(lkg.text));
  assert.match(up.diff, /^-agents: \[$/m);
  assert.deepEqual(up.keptKeys, []);
  assert.ok(up.skippedFiles.includes(constitution), "the constitution's copy holds a placeholder");
  assert.equal(readFileSync(constitution, "utf8"), articles, "the planted secret is still in the live file");
  assert.ok(!JSON.stringify(up).includes(PLANTED), "the record holds no secret");
  const all = listBackups(ctx.config.stateDir);
  const target = all.find((b) => b.reason === `watchdog restore of last known good ${lkg.id}`);
  assert.ok(target, "the restore target is a backup of its own");
  assert.ok(!target.files.some((f) => up.skippedFiles.includes(f.path)), "without the skipped files");
  assert.equal(all.find((b) => b.id === up.savedAs)?.reason, `before backup ${target.id}`);
  await waitFor(
    () => ledgerEvents(dir, "config.applied").at(-1)?.data.source === `backup ${target.id}`,
    "the ledger to show what was written",
  );
  assert.ok(readDaemonInfo(ctx.config.stateDir), "the daemon ran on");
  await healthy(file);

  await runCli(["down", "-c", file]);
  writeFileSync(file, CORRUPT);
  const down = await restoreLastKnownGood(ctx);
  assert.equal(down.outcome, "applied", down.reason);
  assert.equal(readFileSync(file, "utf8"), lkg.text);
  assert.ok(down.savedAs);
  const saved = readBackup(ctx.config.stateDir, down.savedAs);
  assert.deepEqual(
    [...saved.contents.values()].filter((text) => text === CORRUPT).length,
    1,
    "the broken file was backed up first",
  );
  assert.equal(readFileSync(constitution, "utf8"), articles);
});

test("keys added since the last known good survive its restore, and only the recorded one is restored", async (t) => {
  const [port, gatewayPort, upstreamPort] = await freePorts(3);
  const env = {
    ...process.env,
    SIM_KEY: "upstream-key-one-0123456789",
    SIM_KEY_2: "upstream-key-two-0123456789",
    SIM_KEY_3: "upstream-key-three-0123456789",
    AGENT_TOKEN: "agent-token-0123456789",
  };
  // A provider no request reaches (the test is about its key references, not about calls).
  const original = `# the fleet of one, with a comment the restore keeps
version: 1
stateDir: ./state
${MIGRATIONS}gateway: { listen: 127.0.0.1:${gatewayPort} }
providers:
  - { id: sim, kind: openai, baseUrl: http://127.0.0.1:${upstreamPort}/v1, keys: [{ env: SIM_KEY }] }
models:
  main: [{ provider: sim, model: sim-small }]
agents:
${agent(port ?? 0)}
`;
  const { file } = fleetDir(t, original);
  assert.equal((await runCli(["up", "--detach", "-c", file], { env })).code, 0);
  const ctx: RecoverContext = { config: loadConfig(file).config, configFile: file, timeoutMs: 60_000, env };
  await healthy(file);
  await waitFor(() => readLastKnownGood(ctx.config.stateDir), "a last known good", 20_000);
  const lkg = lkgText(ctx.config.stateDir);

  // Since then: a second provider key, a secret env reference, and a bad change (a health path that fails).
  const edited = original
    .replace("keys: [{ env: SIM_KEY }]", "keys: [{ env: SIM_KEY }, { env: SIM_KEY_2 }]")
    .replace("stopTimeout: 3s }", "stopTimeout: 3s, env: { NEW_TOKEN: { env: AGENT_TOKEN } } }")
    .replace("http: /health", "http: /nope");
  assert.notEqual(edited, original);
  writeFileSync(file, edited);
  const newer = await runCli(["backup", "--json", "-c", file], { env });
  assert.equal(newer.code, 0, newer.stderr);
  const record = await restoreLastKnownGood(ctx);
  assert.equal(record.outcome, "applied", record.reason);
  assert.equal(record.backupId, lkg.id, "the recorded last known good, not the newer backup");
  assert.deepEqual(record.keptKeys, [
    "providers.sim.keys: env:SIM_KEY_2",
    "agents.alpha.env.NEW_TOKEN: env:AGENT_TOKEN",
  ]);
  const restored = readFileSync(file, "utf8");
  assert.match(restored, /^# the fleet of one, with a comment the restore keeps$/m);
  assert.match(restored, /\{ env: SIM_KEY_2 \}/);
  assert.match(restored, /NEW_TOKEN: \{ env: AGENT_TOKEN \}/);
  assert.match(restored, /http: \/health,/);
  for (const value of Object.values(env).filter((v) => v?.includes("0123456789")))
    assert.ok(!JSON.stringify(record).includes(value ?? ""), "the record holds no secret value");
  await healthy(file);

  // The live file broken and the daemon down: the keys come from the newest backup that validates.
  await runCli(["down", "-c", file]);
  writeFileSync(file, restored.replace("{ env: SIM_KEY_2 }", "{ env: SIM_KEY_2 }, { env: SIM_KEY_3 }"));
  assert.equal((await runCli(["backup", "-c", file], { env })).code, 0);
  writeFileSync(file, CORRUPT);
  const offline = await restoreLastKnownGood(ctx);
  assert.equal(offline.outcome, "applied", offline.reason);
  assert.ok(offline.keptKeys.includes("providers.sim.keys: env:SIM_KEY_3"), offline.keptKeys.join(", "));
  assert.match(readFileSync(file, "utf8"), /\{ env: SIM_KEY_3 \}/);
});
