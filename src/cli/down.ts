/** `flotilla down`: stop every agent and the daemon, and leave no process behind (even after a daemon death). */

import { connectDaemon } from "../api/client.ts";
import { readDaemonInfo } from "../api/daemon-files.ts";
import { isAlive, signal } from "../supervisor/process-tree.ts";
import { createRunRegistry } from "../supervisor/run-registry.ts";
import { instanceId } from "../supervisor/supervisor.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";
import { markStoppedOnPurpose, stopWatchdog } from "../watchdog/embedded.ts";

/** SIGTERM, then SIGKILL after a grace period, to a daemon that cannot be asked over its API. */
async function stopUnreachable(pid: number, startTime: number): Promise<void> {
  signal(pid, "SIGTERM");
  const deadline = Date.now() + STOP_GRACE_MS;
  while (isAlive(pid, startTime) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid, startTime)) signal(pid, "SIGKILL");
  while (isAlive(pid, startTime)) await new Promise((r) => setTimeout(r, 50));
}

const STOP_GRACE_MS = 3000;

export const downCommand: Command = {
  name: "down",
  summary: "Stop every agent and the daemon",
  usage: "flotilla down [-c FILE] [--json]",
  async run(input) {
    const { config } = loadForCli(input);
    // The watchdog goes first, and the marker tells a timer's watchdog too: a fleet stopped on purpose is not down.
    markStoppedOnPurpose(config.stateDir);
    const watchdogPid = await stopWatchdog(config.stateDir);
    const info = readDaemonInfo(config.stateDir);
    let daemonPid: number | null = null;
    if (info && !info.api) {
      // A daemon that never opened its API (still starting, or stuck): it has no agents yet; stop it.
      daemonPid = info.pid;
      await stopUnreachable(info.pid, info.startTime);
    } else if (info?.api) {
      daemonPid = info.pid;
      await connectDaemon(config.stateDir).post("/v1/shutdown");
      const waitMs = Math.max(...config.agents.map((a) => a.stopTimeout), 0) + 15_000;
      const deadline = Date.now() + waitMs;
      while (isAlive(info.pid, info.startTime) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
    }
    // Whatever a dead daemon left behind goes too.
    const orphans = await createRunRegistry(config.stateDir).cleanupOrphans(instanceId(config.stateDir));
    if (input.json) printJson({ stopped: true, daemonPid, watchdogPid: watchdogPid ?? null, orphans });
    else if (daemonPid === null && orphans.length === 0) print("nothing was running");
    else {
      print(
        daemonPid === null ? "no daemon was running" : `stopped the daemon (pid ${daemonPid}) and its agents`,
      );
      if (orphans.length > 0)
        print(
          `killed ${orphans.length} leftover process(es): ${orphans.map((o) => `${o.name}:${o.pid}`).join(", ")}`,
        );
    }
    return 0;
  },
};
