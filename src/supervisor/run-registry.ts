/** Remembers which processes the daemon started, so a daemon killed with -9 leaves nothing the next `up` cannot find. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findByEnv, isAlive, signal, signalGroup } from "./process-tree.ts";

export interface RunRecord {
  name: string;
  pid: number;
  pgid: number;
  startTime: number;
}

export function createRunRegistry(stateDir: string) {
  const dir = join(stateDir, "run");
  const file = join(dir, "agents.json");
  const records = new Map<string, RunRecord>();

  function persist(): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.tmp`, JSON.stringify([...records.values()], null, 2), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  function read(): RunRecord[] {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
      return Array.isArray(parsed) ? (parsed as RunRecord[]) : [];
    } catch {
      return [];
    }
  }

  return {
    set(name: string, proc: Omit<RunRecord, "name"> | null): void {
      if (proc) records.set(name, { name, ...proc });
      else records.delete(name);
      persist();
    },
    /**
     * Kills what a previous daemon left running: recorded groups whose leader is the same process
     * (pid and start time match), and any process still carrying this instance's env mark.
     * Returns the names and pids it stopped.
     */
    async cleanupOrphans(instance: string): Promise<Array<{ name: string; pid: number }>> {
      const stale = read().filter((r) => isAlive(r.pid, r.startTime));
      const strays = findByEnv({ FLOTILLA_INSTANCE: instance });
      const killed = [
        ...stale.map((r) => ({ name: r.name, pid: r.pid })),
        ...strays
          .filter((p) => !stale.some((r) => r.pid === p.pid))
          .map((p) => ({ name: "(stray)", pid: p.pid })),
      ];
      for (const r of stale) signalGroup(r.pgid, "SIGKILL");
      for (const p of strays) signal(p.pid, "SIGKILL");
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && killed.some((k) => isAlive(k.pid))) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      records.clear();
      persist();
      return killed;
    },
  };
}
