/** Pure restart arithmetic: exponential backoff between delay and maxDelay, and the burst limit that marks a crash loop. */
import type { AgentConfig } from "../config/schema.ts";

export type RestartSettings = AgentConfig["restart"];

/** Whether an exit should be followed by a restart under the policy. */
export function shouldRestart(
  policy: RestartSettings["policy"],
  exit: { code: number | null; signal: string | null },
): boolean {
  if (policy === "never") return false;
  if (policy === "always") return true;
  return exit.code !== 0 || exit.signal !== null;
}

/** Delay before restart number `attempt` (1-based) of a run of failures: delay · 2^(attempt-1), capped at maxDelay. */
export function backoffDelay(settings: RestartSettings, attempt: number): number {
  const raw = settings.delay * 2 ** Math.max(0, attempt - 1);
  return Math.min(raw, Math.max(settings.maxDelay, settings.delay));
}

/** Records start times and answers whether one more start would exceed the burst window. */
export function createBurstGuard(settings: RestartSettings) {
  const starts: number[] = [];
  return {
    /** Records a start at `now`. */
    record(now: number): void {
      starts.push(now);
    },
    /** True when `burst.count` starts already happened within the window ending at `now`. */
    exceeded(now: number): boolean {
      while (starts.length > 0 && (starts[0] as number) <= now - settings.burst.windowMs) starts.shift();
      return starts.length >= settings.burst.count;
    },
    reset(): void {
      starts.length = 0;
    },
  };
}
