/** A daemon killed with -9 in the middle of an apply: the next `up` settles on the old config, whole, and says so. */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fleetDir, freePorts, pidAlive, runCli, status, waitFor } from "../support/fleet.ts";
import { alphaThenBravo, daemonPid, fleetConfig, ledgerEvents } from "../support/migrations.ts";

test("kill -9 of the daemon during an apply leaves, on the next up, the old config whole", async (t) => {
  const [pa = 0, pb = 0, pc = 0] = await freePorts(3);
  const settings = "migrations: { healthTimeout: 60s, healthyFor: 500ms }\n";
  const oldText = fleetConfig(
    [
      { name: "alpha", port: pa },
      { name: "bravo", port: pb },
    ],
    settings,
  );
  // bravo changes and charlie is added; charlie takes 30s to listen, so the apply waits in its health check.
  const newText = fleetConfig(
    [
      { name: "alpha", port: pa },
      { name: "bravo", port: pb, extra: 'env: { GREETING: "new" }' },
      { name: "charlie", port: pc, extra: 'env: { FLOTILLA_EXAMPLE_FAULT: "slow-start:30000" }' },
    ],
    settings,
  );
  const { dir, file } = fleetDir(t, oldText);
  assert.equal((await runCli(["up", "--detach", "--json", "-c", file])).code, 0);
  await waitFor(async () => (await status(file)).every((r) => r.state === "running"), "the fleet running");
  const proposed = join(dir, "new.yaml");
  writeFileSync(proposed, newText);
  const journalFile = join(dir, "state/apply-journal.json");

  const applying = runCli(["config", "apply", proposed, "--yes", "-c", file]);
  await waitFor(() => {
    if (!existsSync(journalFile)) return undefined;
    const journal = JSON.parse(readFileSync(journalFile, "utf8")) as { phase: string };
    return journal.phase === "applying" && readFileSync(file, "utf8") === newText;
  }, "the apply to be under way (journal written, new file in place)");
  await waitFor(async () => (await status(file)).some((r) => r.name === "charlie"), "charlie started");
  const pid = daemonPid(dir);
  process.kill(pid, "SIGKILL");
  await waitFor(() => !pidAlive(pid), "the daemon gone");
  const interrupted = await applying;
  assert.equal(interrupted.code, 1, "the apply reports that it did not finish");

  const up = await runCli(["up", "--detach", "--json", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(readFileSync(file, "utf8"), oldText, "the live file is the old config, byte for byte");
  assert.equal(existsSync(journalFile), false, "the journal is settled");
  const rows = await waitFor(async () => {
    const found = await status(file);
    return found.every((r) => r.state === "running") ? found : undefined;
  }, "the old fleet running");
  assert.deepEqual(
    rows.map((r) => r.name),
    ["alpha", "bravo"],
    "the fleet runs exactly the old config's agents",
  );
  const recovered = ledgerEvents(dir, "config.recovered");
  assert.equal(recovered.length, 1);
  assert.equal(recovered[0]?.data.action, "rolled_back");
  assert.equal(recovered[0]?.data.phase, "applying");
  const orphans = ledgerEvents(dir, "daemon.orphans_cleaned")[0]?.data.orphans as Array<{ name: string }>;
  assert.ok(
    orphans.some((o) => o.name === "charlie"),
    "the half-started agent of the new config was cleaned up",
  );
});

test("a daemon killed after an apply committed: the next up keeps the new config and says it rolled forward", async (t) => {
  const [pa = 0, pb = 0] = await freePorts(2);
  const { oldText, newText } = alphaThenBravo(pa, pb);
  // What a kill -9 between "committed" and the journal's removal leaves: the new files in place and a
  // committed journal (the window is too short to hit with a real signal).
  const { dir, file } = fleetDir(t, newText);
  mkdirSync(join(dir, "state"), { recursive: true, mode: 0o700 });
  const journalFile = join(dir, "state/apply-journal.json");
  writeFileSync(
    journalFile,
    JSON.stringify({
      id: "apply-test",
      phase: "committed",
      startedAt: Date.now(),
      source: "apply new.yaml",
      backupId: null,
      files: [{ path: file, before: oldText, after: newText }],
    }),
  );

  const up = await runCli(["up", "--detach", "--json", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(readFileSync(file, "utf8"), newText, "the committed config stays");
  assert.equal(existsSync(journalFile), false, "the journal is settled");
  const rows = await waitFor(async () => {
    const found = await status(file);
    return found.length === 2 && found.every((r) => r.state === "running") ? found : undefined;
  }, "the new fleet running");
  assert.deepEqual(
    rows.map((r) => r.name),
    ["alpha", "bravo"],
  );
  const recovered = ledgerEvents(dir, "config.recovered");
  assert.equal(recovered.length, 1);
  assert.equal(recovered[0]?.data.action, "rolled_forward");
  assert.equal(recovered[0]?.data.phase, "committed");
});
