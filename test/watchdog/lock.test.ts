/** The watchdog lock: two real processes racing for it (one wins, also over a stale lock), a dead holder's lock taken over. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isFlotillaError } from "../../src/errors.ts";
import { readProc } from "../../src/supervisor/process-tree.ts";
import { acquireWatchdogLock, takeOver } from "../../src/watchdog/lock.ts";
import { NODE, ROOT, waitFor } from "../support/fleet.ts";

/** A child that waits for the `go` file, tries the lock, says "won" or the error code, and holds a win until killed. */
const RACER = `
import { existsSync } from "node:fs";
import { acquireWatchdogLock } from ${JSON.stringify(join(ROOT, "src/watchdog/lock.ts"))};
const [stateDir, go] = process.argv.slice(1);
process.stdout.write("ready\\n");
while (!existsSync(go)) await new Promise((r) => setTimeout(r, 2));
try {
  acquireWatchdogLock(stateDir);
  process.stdout.write("won\\n");
  setInterval(() => {}, 1000);
} catch (err) {
  process.stdout.write(\`\${err.code}\\n\`);
  process.exit(0);
}`;

function racer(stateDir: string, go: string): { child: ChildProcess; said: () => string } {
  const child = spawn(NODE, ["--input-type=module", "-e", RACER, stateDir, go], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
  return { child, said: () => out };
}

function tempState(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-wd-lock-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A pid that was just used and is gone now. */
async function deadPid(): Promise<number> {
  const child = spawn(NODE, ["-e", ""]);
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid ?? 0;
}

test("two processes racing for the lock: exactly one wins, with a fresh state dir and over a stale lock", async (t) => {
  for (const stale of [false, true, false, true]) {
    const stateDir = tempState(t);
    if (stale)
      writeFileSync(join(stateDir, "watchdog.lock"), JSON.stringify({ pid: await deadPid(), startTime: 1 }));
    const go = join(stateDir, "go");
    const racers = [racer(stateDir, go), racer(stateDir, go)];
    t.after(() => {
      for (const r of racers) r.child.kill("SIGKILL");
    });
    await waitFor(() => racers.every((r) => r.said() === "ready\n"), "both racers ready");
    writeFileSync(go, "");
    const results = await waitFor(() => {
      const said = racers.map((r) => r.said().replace("ready\n", "").trim());
      return said.every(Boolean) ? said.sort() : undefined;
    }, "both racers' answers");
    assert.deepEqual(results, ["FLOTILLA_E_WATCHDOG_RUNNING", "won"], `stale lock first: ${stale}`);
    const winner = racers.find((r) => r.said().includes("won"));
    assert.equal(JSON.parse(readFileSync(join(stateDir, "watchdog.lock"), "utf8")).pid, winner?.child.pid);
    for (const r of racers) r.child.kill("SIGKILL");
  }
});

test("a lock held by a live process is refused naming its pid; a dead or reused pid's lock is taken over; release is the holder's only", async (t) => {
  const stateDir = tempState(t);
  const file = join(stateDir, "watchdog.lock");
  const holder = spawn(NODE, ["-e", "setInterval(() => {}, 1000)"]);
  t.after(() => holder.kill("SIGKILL"));
  const pid = holder.pid ?? 0;
  const startTime = await waitFor(() => readProc(pid)?.startTime, "the holder running");
  writeFileSync(file, JSON.stringify({ pid, startTime }));
  assert.throws(
    () => acquireWatchdogLock(stateDir),
    (err) =>
      isFlotillaError(err) &&
      err.code === "FLOTILLA_E_WATCHDOG_RUNNING" &&
      err.message ===
        `a watchdog (pid ${pid}) already watches ${stateDir}; let it work, or stop it (kill ${pid}) before starting another`,
  );
  // The same pid with another start time is another process now: the lock is stale.
  writeFileSync(file, JSON.stringify({ pid, startTime: startTime + 1 }));
  const reused = acquireWatchdogLock(stateDir);
  assert.equal(JSON.parse(readFileSync(file, "utf8")).pid, process.pid);
  reused.release();
  assert.equal(existsSync(file), false);

  // An unparsable lock left long ago is debris.
  writeFileSync(file, "{");
  utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  acquireWatchdogLock(stateDir).release();

  writeFileSync(file, JSON.stringify({ pid: await deadPid(), startTime: 1 }));
  const lock = acquireWatchdogLock(stateDir);
  assert.throws(
    () => acquireWatchdogLock(stateDir),
    /already watches/,
    "the process's own live lock holds too",
  );
  // Someone else's lock in its place is left alone by our release.
  writeFileSync(file, JSON.stringify({ pid, startTime }));
  lock.release();
  assert.equal(existsSync(file), true);
});

test("a taker that read the stale lock removes only that lock: a new holder's lock, or a takeover in progress, is left alone", async (t) => {
  const stateDir = tempState(t);
  const file = join(stateDir, "watchdog.lock");
  const me = { pid: process.pid, startTime: readProc(process.pid)?.startTime ?? 0 };
  const stale = JSON.stringify({ pid: await deadPid(), startTime: 1 });
  // Another process took the stale lock over and wrote its own between our read and our takeover.
  const fresh = JSON.stringify({ pid: 4242, startTime: 7 });
  writeFileSync(file, fresh);
  takeOver(file, stale, me);
  assert.equal(readFileSync(file, "utf8"), fresh);
  // Still the stale one: removed, and the takeover guard is gone again.
  writeFileSync(file, stale);
  takeOver(file, stale, me);
  assert.equal(existsSync(file), false);
  assert.equal(existsSync(`${file}.takeover`), false);
  // A live process is taking over: we leave both files to it.
  writeFileSync(file, stale);
  writeFileSync(`${file}.takeover`, JSON.stringify(me));
  takeOver(file, stale, me);
  assert.equal(readFileSync(file, "utf8"), stale);
  assert.equal(existsSync(`${file}.takeover`), true);
});
