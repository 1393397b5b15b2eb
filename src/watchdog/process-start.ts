/** When a process started, in epoch milliseconds, from /proc: its start ticks since boot and the uptime. */
import { readFileSync } from "node:fs";
import { readProc } from "../supervisor/process-tree.ts";

/** Linux's USER_HZ, the unit of /proc/PID/stat's start time: 100 on every mainstream kernel build. */
const TICKS_PER_SECOND = 100;

/** Epoch ms at which pid started, or undefined when it is gone (or, given startTime, is another process now). */
export function processStartedAt(pid: number, startTime?: number, now = Date.now()): number | undefined {
  const info = readProc(pid);
  if (!info || info.state === "Z" || (startTime !== undefined && info.startTime !== startTime))
    return undefined;
  let uptimeSec: number;
  try {
    uptimeSec = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  } catch {
    return undefined;
  }
  return Math.round(now - (uptimeSec - info.startTime / TICKS_PER_SECOND) * 1000);
}
