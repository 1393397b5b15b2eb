/**
 * CPU and memory of an agent's process tree, from /proc, as `status` shows them. CPU % is measured over the
 * time since the previous sample of the same tree (or a short window when there is none).
 */
import { readFileSync } from "node:fs";
import { descendants } from "./process-tree.ts";

/** Linux reports CPU time in USER_HZ ticks (100 on every current architecture) and RSS in pages. */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;
/** With no recent sample, CPU % is measured over this window (ms). */
const WINDOW_MS = 200;
/** A previous sample older than this is too stale to measure from (ms). */
const STALE_MS = 30_000;

export interface Usage {
  /** Percent of one core over the window (may exceed 100 on several cores). */
  cpuPercent: number;
  /** Resident memory of the whole tree, in bytes. */
  memoryBytes: number;
}

interface Sample {
  ticks: number;
  rssBytes: number;
  at: number;
}

function sampleTree(pid: number): Sample | undefined {
  let ticks = 0;
  let rssBytes = 0;
  let found = false;
  for (const p of [pid, ...descendants(pid).map((d) => d.pid)]) {
    let text: string;
    try {
      text = readFileSync(`/proc/${p}/stat`, "utf8");
    } catch {
      continue;
    }
    // Fields resume after the command name's last ")": index 0 is field 3 (state).
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
    rssBytes += Number(fields[21]) * PAGE_BYTES;
    found = true;
  }
  return found ? { ticks, rssBytes, at: Date.now() } : undefined;
}

/** Keeps the previous sample per root pid, so repeated `status` calls measure between them. */
export function createUsageSampler() {
  const previous = new Map<number, Sample>();

  function usageBetween(before: Sample, after: Sample): Usage {
    const seconds = Math.max(0.001, (after.at - before.at) / 1000);
    const cpu = Math.max(0, after.ticks - before.ticks) / TICKS_PER_SECOND / seconds;
    return { cpuPercent: Math.round(cpu * 1000) / 10, memoryBytes: after.rssBytes };
  }

  return {
    /** Usage of each root pid's tree (null for a pid that is gone). */
    async sample(pids: number[]): Promise<Map<number, Usage | null>> {
      const now = Date.now();
      const first = new Map<number, Sample | undefined>();
      for (const pid of pids) {
        const known = previous.get(pid);
        first.set(pid, known && now - known.at < STALE_MS && now - known.at >= 50 ? known : sampleTree(pid));
      }
      if ([...first.values()].some((s) => s && Date.now() - s.at < WINDOW_MS / 2))
        await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
      const result = new Map<number, Usage | null>();
      previous.clear();
      for (const pid of pids) {
        const before = first.get(pid);
        const after = sampleTree(pid);
        if (after) previous.set(pid, after);
        result.set(pid, before && after ? usageBetween(before, after) : null);
      }
      return result;
    },
  };
}

export type UsageSampler = ReturnType<typeof createUsageSampler>;
