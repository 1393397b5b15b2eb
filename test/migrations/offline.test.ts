/** Migrations with no daemon running: apply writes the file for the next `up`, and a broken live config can be restored from its backups. */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fleetDir, freePorts, runCli } from "../support/fleet.ts";
import { alphaThenBravo } from "../support/migrations.ts";

test("with no daemon, apply backs up and writes the live file; a broken live config is restored with --state-dir", async (t) => {
  const [pa = 0, pb = 0] = await freePorts(2);
  const { oldText, newText } = alphaThenBravo(pa, pb);
  const { dir, file } = fleetDir(t, oldText);
  const proposed = join(dir, "new.yaml");
  writeFileSync(proposed, newText);

  const diff = await runCli(["config", "diff", proposed, "--json", "-c", file]);
  assert.equal(diff.code, 0, diff.stderr);
  const shown = JSON.parse(diff.stdout) as { plan: { add: string[] }; diff: string };
  assert.deepEqual(shown.plan.add, ["bravo"]);
  assert.match(shown.diff, /^\+ {2}- \{ name: bravo/m);

  const applied = await runCli(["config", "apply", proposed, "--yes", "--json", "-c", file]);
  assert.equal(applied.code, 0, applied.stderr);
  const result = JSON.parse(applied.stdout) as { offline: boolean; backupId: string };
  assert.equal(result.offline, true);
  assert.equal(readFileSync(file, "utf8"), newText);
  assert.equal(
    readFileSync(join(dir, "state/backups", result.backupId, "files/000-config"), "utf8"),
    oldText,
  );
  const history = await runCli(["config", "history", "--json", "-c", file]);
  assert.equal(history.code, 0, history.stderr);

  writeFileSync(file, "version: 1\nagents: [ { name: alpha\n");
  const refused = await runCli(["restore", result.backupId, "--yes", "-c", file]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^flotilla restore: .*does not validate.*--state-dir DIR"\n$/);
  const unknown = await runCli(["restore", "nope", "--yes", "--state-dir", join(dir, "state"), "-c", file]);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, `flotilla restore: no backup "nope" (backups: ${result.backupId})\n`);
  const restored = await runCli([
    "restore",
    result.backupId,
    "--yes",
    "--state-dir",
    join(dir, "state"),
    "-c",
    file,
  ]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(readFileSync(file, "utf8"), oldText, "the backup's config is back in the live file");
  const listed = await runCli(["restore", "--json", "-c", file]);
  const backups = (JSON.parse(listed.stdout) as { backups: Array<{ id: string; reason: string }> }).backups;
  assert.equal(backups.length, 2, "the restore backed up the broken file first");
  assert.match(backups[1]?.reason ?? "", new RegExp(`^before backup ${result.backupId}$`));
});
