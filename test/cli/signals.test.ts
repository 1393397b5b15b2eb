/**
 * Signals reach children: a foreground `up` or `logs -f` whose parent dies (npm killed with SIGTERM, a
 * wrapper gone) stops instead of running on with PPID 1; no follower and no daemon are left behind.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { BIN, fleetDir, freePorts, NODE, pidAlive, runCli, status, waitFor } from "../support/fleet.ts";
import { agentLine } from "../support/migrations.ts";

/** How many sockets a process holds (a follower holds one per stream it follows). */
function openSockets(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:");
      } catch {
        return false;
      }
    }).length;
  } catch {
    return 0;
  }
}

/** Starts `flotilla ARGS` under a bash wrapper (as npm runs a script); resolves with both pids. */
async function underWrapper(args: string[]): Promise<{ wrapper: number; cli: number }> {
  const command = [NODE, BIN, ...args].map((a) => `'${a}'`).join(" ");
  const wrapper = spawn("bash", ["-c", `${command} > /dev/null 2>&1 & echo $!; wait`], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  let out = "";
  wrapper.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const cli = await waitFor(() => Number(out.trim()) || undefined, "the CLI's pid");
  return { wrapper: wrapper.pid ?? 0, cli };
}

test("logs -f and a foreground up stop when their parent is killed", async (t) => {
  const [pa = 0] = await freePorts(1);
  const { dir, file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n${agentLine({ name: "alpha", port: pa })}\n`,
  );

  const up = await underWrapper(["up", "-c", file]);
  t.after(() => {
    if (pidAlive(up.cli)) process.kill(up.cli, "SIGKILL");
  });
  await waitFor(
    async () => (await status(file)).some((r) => r.state === "running"),
    "alpha running under a foreground up",
  );
  const daemon = (JSON.parse(readFileSync(join(dir, "state/daemon.json"), "utf8")) as { pid: number }).pid;

  const follower = await underWrapper(["logs", "-f", "-c", file]);
  t.after(() => {
    if (pidAlive(follower.cli)) process.kill(follower.cli, "SIGKILL");
  });
  await waitFor(() => openSockets(follower.cli) > 0, "the follower's stream open");
  process.kill(follower.wrapper, "SIGKILL");
  await waitFor(() => !pidAlive(follower.cli), "the follower gone with its parent", 10_000);

  process.kill(up.wrapper, "SIGKILL");
  await waitFor(
    () => !pidAlive(daemon) && !pidAlive(up.cli),
    "the foreground fleet stopped with its parent",
    20_000,
  );
  assert.equal((await runCli(["status", "--json", "-c", file])).code, 0);
});
