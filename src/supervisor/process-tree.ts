/** Reads /proc to find an agent's processes: descendants by parent pid, and strays by the env marker every agent carries. */
import { readdirSync, readFileSync } from "node:fs";

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** Start time in clock ticks since boot; with the pid it identifies one process across pid reuse. */
  startTime: number;
  state: string;
}

/** Parses /proc/PID/stat; undefined when the process is gone. */
export function readProc(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parens; fields resume after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    pid,
    state: fields[0] ?? "?",
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    startTime: Number(fields[19]),
  };
}

function allPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** True while the process exists and is not a zombie (and, when given, started at startTime). */
export function isAlive(pid: number, startTime?: number): boolean {
  const info = readProc(pid);
  if (!info || info.state === "Z" || info.state === "X") return false;
  return startTime === undefined || info.startTime === startTime;
}

/** Every live descendant of pid, found by walking parent links. */
export function descendants(pid: number): ProcInfo[] {
  const procs = allPids()
    .map(readProc)
    .filter((p): p is ProcInfo => p !== undefined);
  const children = new Map<number, ProcInfo[]>();
  for (const p of procs) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const found: ProcInfo[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Processes whose environment holds every `KEY=value` given: agents and the children they leave behind. */
export function findByEnv(marks: Record<string, string>): ProcInfo[] {
  const wanted = Object.entries(marks).map(([key, value]) => `${key}=${value}`);
  const found: ProcInfo[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
    } catch {
      continue;
    }
    if (wanted.every((entry) => environ.includes(entry))) {
      const info = readProc(pid);
      if (info && info.state !== "Z") found.push(info);
    }
  }
  return found;
}

/** Sends a signal, ignoring processes that are already gone. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone; EPERM: not ours to signal.
  }
}

/** Signals a whole process group, ignoring a group that is already empty. */
export function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  if (pgid > 1) signal(-pgid, sig);
}
