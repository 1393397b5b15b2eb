/**
 * `flotilla config apply` on a running fleet of example agents: only changed agents restart, a change that
 * breaks health rolls back on its own, backups hold no secret, restores take the same path, a config
 * becomes last known good, and a hand edit is a drift event while an apply is not.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { writeManagedFile } from "../../src/config/managed-files.ts";
import { fleetDir, freePorts, runCli, status, waitFor } from "../support/fleet.ts";
import { fleetConfig, ledgerEvents } from "../support/migrations.ts";

const SECRET = "flotilla-test-secret-5f1c9a7e";
const env = { ...process.env, FLOTILLA_TEST_SECRET: SECRET };

async function allRunning(file: string, names: string[]) {
  return waitFor(
    async () => {
      const rows = await status(file);
      const ok =
        rows.length === names.length &&
        names.every((n) => rows.some((r) => r.name === n && r.state === "running" && r.health.ok === true));
      return ok ? rows : undefined;
    },
    `${names.join(", ")} running and healthy`,
  );
}

const pidOf = (rows: Array<{ name: string; pid: number | null }>, name: string) =>
  rows.find((r) => r.name === name)?.pid;

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

test("apply restarts only changed agents, backs up without secrets, restores, marks last known good, and tells drift from applies", async (t) => {
  const [pa = 0, pb = 0, pc = 0, pd = 0] = await freePorts(4);
  // The old config takes 10 minutes to become last known good, the new one 1s: only the new one can.
  const settings = (lkg: string) =>
    `migrations: { healthTimeout: 15s, healthyFor: 500ms, lastKnownGoodAfter: ${lkg} }\ndrift: { every: 300ms }\n`;
  const secretEnv = "env: { TOKEN: { env: FLOTILLA_TEST_SECRET } }";
  const oldText = fleetConfig(
    [
      { name: "alpha", port: pa, extra: secretEnv },
      { name: "bravo", port: pb },
      { name: "charlie", port: pc },
    ],
    settings("10m"),
  );
  const newText = fleetConfig(
    [
      { name: "alpha", port: pa, extra: secretEnv },
      { name: "bravo", port: pb, extra: 'env: { GREETING: "hello" }' },
      { name: "delta", port: pd },
    ],
    settings("1s"),
  );
  const { dir, file } = fleetDir(t, oldText);
  assert.equal((await runCli(["up", "--detach", "--json", "-c", file], { env })).code, 0);
  const before = await allRunning(file, ["alpha", "bravo", "charlie"]);
  const proposed = join(dir, "new.yaml");
  writeFileSync(proposed, newText);
  // A managed file that (by some module's mistake) holds a resolved secret: the backup must not copy it.
  const generated = join(dir, "generated.json");
  writeManagedFile(join(dir, "state"), generated, `{ "apiKey": "${SECRET}" }\n`);

  const dry = await runCli(["config", "apply", proposed, "-c", file], { env });
  assert.equal(dry.code, 0);
  assert.match(dry.stdout, /nothing was applied; re-run with --yes/);
  assert.equal(readFileSync(file, "utf8"), oldText, "without --yes nothing is applied");

  const applied = await runCli(["config", "apply", proposed, "--yes", "--json", "-c", file], { env });
  assert.equal(applied.code, 0, applied.stderr);
  const result = JSON.parse(applied.stdout) as {
    outcome: string;
    backupId: string;
    plan: {
      add: string[];
      remove: string[];
      restart: Array<{ name: string; fields: string[] }>;
      keep: string[];
    };
  };
  assert.equal(result.outcome, "applied");
  assert.deepEqual(result.plan.add, ["delta"]);
  assert.deepEqual(result.plan.remove, ["charlie"]);
  assert.deepEqual(result.plan.restart, [{ name: "bravo", fields: ["env"] }]);
  assert.deepEqual(result.plan.keep, ["alpha"]);
  const after = await allRunning(file, ["alpha", "bravo", "delta"]);
  assert.equal(pidOf(after, "alpha"), pidOf(before, "alpha"), "an unchanged agent keeps its pid");
  assert.notEqual(pidOf(after, "bravo"), pidOf(before, "bravo"), "a changed agent restarts");
  assert.equal(readFileSync(file, "utf8"), newText, "the live file holds the new config");
  assert.deepEqual(
    ledgerEvents(dir, "config.")
      .filter((e) => e.kind !== "config.last_known_good")
      .map((e) => [e.kind, e.data.agent ?? null]),
    [
      ["config.apply_started", null],
      ["config.files_written", null],
      ["config.agent_stopped", "charlie"],
      ["config.agent_restarted", "bravo"],
      ["config.agent_started", "delta"],
      ["config.applied", null],
    ],
  );

  // The backup holds the old config and the config's reference, never the secret's value.
  const backupDir = join(dir, "state/backups", result.backupId);
  assert.equal(readFileSync(join(backupDir, "files/000-config"), "utf8"), oldText);
  const leaks = filesUnder(join(dir, "state/backups")).filter((f) =>
    readFileSync(f, "utf8").includes(SECRET),
  );
  assert.deepEqual(leaks, [], "no backup file contains the secret's value");
  const manifest = JSON.parse(readFileSync(join(backupDir, "manifest.json"), "utf8")) as {
    files: Array<{ path: string; copy: string }>;
  };
  const copy = manifest.files.find((f) => f.path === generated)?.copy ?? "";
  assert.equal(
    readFileSync(join(backupDir, "files", copy), "utf8"),
    '{ "apiKey": "<secret env:FLOTILLA_TEST_SECRET>" }\n',
    "managed files are backed up, with resolved secrets replaced by their reference",
  );

  // Last known good: the new config, after the fleet has been healthy on it for 1s.
  const lkg = await waitFor(() => {
    const lkgFile = join(dir, "state/last-known-good.json");
    if (!existsSync(lkgFile)) return undefined;
    const record = JSON.parse(readFileSync(lkgFile, "utf8")) as { backupId: string };
    const text = readFileSync(join(dir, "state/backups", record.backupId, "files/000-config"), "utf8");
    return text === newText ? record : undefined;
  }, "the new config to become last known good");
  const history = await runCli(["config", "history", "--json", "-c", file]);
  assert.equal(
    (JSON.parse(history.stdout) as { lastKnownGood: { backupId: string } }).lastKnownGood.backupId,
    lkg.backupId,
  );

  // An apply is not drift; a hand edit is, within one check interval (300ms).
  assert.deepEqual(ledgerEvents(dir, "config.drift"), [], "a file written by apply is not drift");
  const editedAt = Date.now();
  writeFileSync(file, `${newText}# edited by hand\n`);
  const drift = await waitFor(() => {
    const found = ledgerEvents(dir, "config.drift");
    return found.length > 0 ? found : undefined;
  }, "a drift event");
  assert.equal(drift[0]?.data.file, file);
  assert.match(String(drift[0]?.data.diff), /^\+# edited by hand$/m);
  // The check runs every 300ms; allow for timer jitter on a busy machine (the exact bound is
  // checked on a fake clock in migration-parts.test.ts).
  const lag = (drift[0]?.ts ?? Number.POSITIVE_INFINITY) - editedAt;
  assert.ok(lag <= 300 + 500, `drift seen ${lag}ms after the edit, more than one interval`);
  // A second, different edit is one more event (one edit reported once is pinned on a fake clock).
  writeFileSync(file, `${newText}# edited by hand, again\n`);
  const again = await waitFor(() => {
    const found = ledgerEvents(dir, "config.drift");
    return found.length > 1 ? found : undefined;
  }, "a second drift event");
  assert.equal(again.length, 2, "one event per edit");
  assert.match(String(again[1]?.data.diff), /^\+# edited by hand, again$/m);
  writeFileSync(file, newText);

  // Restore goes through the same path: the old fleet comes back.
  const unknown = await runCli(["restore", "no-such-id", "--yes", "-c", file]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, new RegExp(`no backup "no-such-id" \\(backups: .*${result.backupId}`));
  const restored = await runCli(["restore", result.backupId, "--yes", "-c", file], { env });
  assert.equal(restored.code, 0, restored.stderr);
  await allRunning(file, ["alpha", "bravo", "charlie"]);
  assert.equal(readFileSync(file, "utf8"), oldText);
  // And the last known good (the new config) comes back the same way.
  const good = await runCli(["restore", "last-known-good", "--yes", "--json", "-c", file], { env });
  assert.equal(good.code, 0, good.stderr);
  assert.equal((JSON.parse(good.stdout) as { outcome: string }).outcome, "applied");
  await allRunning(file, ["alpha", "bravo", "delta"]);
  assert.equal(readFileSync(file, "utf8"), newText);
});

test("an apply that breaks health is rolled back on its own; the fleet is healthy again and the events show each step", async (t) => {
  const [pa = 0, pb = 0] = await freePorts(2);
  const settings = "migrations: { healthTimeout: 15s, healthyFor: 500ms }\n";
  const oldText = fleetConfig(
    [
      { name: "alpha", port: pa },
      { name: "bravo", port: pb },
    ],
    settings,
  );
  const { dir, file } = fleetDir(t, oldText);
  assert.equal((await runCli(["up", "--detach", "--json", "-c", file])).code, 0);
  const before = await allRunning(file, ["alpha", "bravo"]);
  const proposed = join(dir, "broken.yaml");
  writeFileSync(
    proposed,
    fleetConfig(
      [
        { name: "alpha", port: pa },
        { name: "bravo", port: pb, extra: 'env: { FLOTILLA_EXAMPLE_FAULT: "exit:3" }' },
      ],
      settings,
    ),
  );

  const result = await runCli(["config", "apply", proposed, "--yes", "-c", file]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /\nflotilla config: health check failed: bravo \(state \w+, last exit code=3[^\n]*rolled back[^\n]*\n$/,
  );
  assert.equal(readFileSync(file, "utf8"), oldText, "the live file is back to the old config");
  const after = await allRunning(file, ["alpha", "bravo"]);
  assert.equal(pidOf(after, "alpha"), pidOf(before, "alpha"), "the untouched agent never restarted");
  assert.deepEqual(
    ledgerEvents(dir, "config.").map((e) => [e.kind, e.data.agent ?? null]),
    [
      ["config.apply_started", null],
      ["config.files_written", null],
      ["config.agent_restarted", "bravo"],
      ["config.health_failed", null],
      ["config.rolling_back", null],
      ["config.files_restored", null],
      ["config.agent_restarted", "bravo"],
      ["config.rolled_back", null],
    ],
  );
  const rolledBack = ledgerEvents(dir, "config.rolled_back")[0];
  assert.equal(rolledBack?.data.healthy, true, "the old config passed its health check again");
  const failed = ledgerEvents(dir, "config.health_failed")[0]?.data.failed as Array<{ name: string }>;
  assert.deepEqual(
    failed.map((f) => f.name),
    ["bravo"],
  );
  assert.equal(existsSync(join(dir, "state/apply-journal.json")), false, "no journal is left behind");
});

test("an apply whose new agent cannot start is refused by the daemon's preflight; nothing changes", async (t) => {
  const [pa = 0, pb = 0] = await freePorts(2);
  const oldText = fleetConfig([{ name: "alpha", port: pa }]);
  const { dir, file } = fleetDir(t, oldText);
  assert.equal((await runCli(["up", "--detach", "--json", "-c", file])).code, 0);
  const before = await allRunning(file, ["alpha"]);
  const proposed = join(dir, "missing-command.yaml");
  writeFileSync(
    proposed,
    `${oldText}  - { name: bravo, command: [/no/such/program], port: ${pb}, workspace: ./ws/bravo }\n`,
  );

  const result = await runCli(["config", "apply", proposed, "--yes", "-c", file]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^flotilla config: [^\n]*bravo[^\n]*\/no\/such\/program[^\n]*nothing was changed\n$/,
  );
  assert.equal(readFileSync(file, "utf8"), oldText, "the live file is unchanged");
  const after = await allRunning(file, ["alpha"]);
  assert.equal(pidOf(after, "alpha"), pidOf(before, "alpha"), "the running agent was not touched");
  assert.deepEqual(ledgerEvents(dir, "config.apply"), [], "no apply started");
});
