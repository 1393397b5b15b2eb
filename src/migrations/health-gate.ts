/**
 * Waits until a set of agents has been running, without a restart, for a while; or says which did not.
 * A start that ends (the agent exited or was found unhealthy, so it waits in backoff) fails the gate at once.
 */
import type { AgentStatus } from "../supervisor/agent-runner.ts";

/** Where the gate stands, for progress reports: each pending agent's state and the time left (ms). */
export interface GateProgress {
  pending: Array<{ name: string; state: string; healthyForMs: number }>;
  leftMs: number;
}

export interface GateOptions {
  names: string[];
  status: (name: string) => AgentStatus;
  /** Give up after this long (ms). */
  timeout: number;
  /** Each agent must stay running, with no restart, this long (ms). */
  healthyFor: number;
  signal?: AbortSignal;
  pollMs?: number;
  /** Told at every poll while agents are pending. */
  onProgress?: (progress: GateProgress) => void;
}

/** An agent that did not become healthy, and why, in words an operator can act on. */
export interface GateFailure {
  name: string;
  state: string;
  reason: string;
  /** Its last exit, when it had one. */
  lastExit?: AgentStatus["lastExit"];
  /** The last lines of its log when it failed (filled in by the migrator). */
  logs?: string[];
}

function reasonOf(status: AgentStatus): string {
  const exit = status.lastExit;
  const parts = [`state ${status.state}`];
  if (exit) parts.push(`last exit code=${exit.code} signal=${exit.signal}`);
  if (status.health.error) parts.push(`health: ${status.health.error}`);
  if (status.restarts > 0) parts.push(`${status.restarts} restarts`);
  return parts.join(", ");
}

/** States in which a start has ended: the restart policy gave up, or a restart waits out its delay. */
const ENDED = new Set(["stopped", "failed", "backoff"]);

/** Resolves with the agents that failed the gate (empty: all healthy). */
export async function healthGate(options: GateOptions): Promise<GateFailure[]> {
  const pollMs = options.pollMs ?? 100;
  const deadline = Date.now() + options.timeout;
  const since = new Map<string, { at: number; restarts: number; pid: number | null }>();
  for (;;) {
    const now = Date.now();
    const pending: AgentStatus[] = [];
    for (const name of options.names) {
      const status = options.status(name);
      const seen = since.get(name);
      const healthy = status.state === "running" && status.health.ok !== false;
      if (!healthy || (seen && (seen.restarts !== status.restarts || seen.pid !== status.pid))) {
        since.delete(name);
        pending.push(status);
        continue;
      }
      if (!seen) since.set(name, { at: now, restarts: status.restarts, pid: status.pid });
      if (now - (seen?.at ?? now) < options.healthyFor) pending.push(status);
    }
    if (pending.length === 0) return [];
    const ended = pending.some((s) => ENDED.has(s.state));
    if (ended || now >= deadline || options.signal?.aborted) {
      // Only the agents whose start ended are to blame when one did; the others were merely not done yet.
      const failed = ended ? pending.filter((s) => ENDED.has(s.state)) : pending;
      return failed.map((status) => ({
        name: status.name,
        state: status.state,
        reason: reasonOf(status),
        lastExit: status.lastExit,
      }));
    }
    options.onProgress?.({
      pending: pending.map((s) => ({
        name: s.name,
        state: s.state,
        healthyForMs: now - (since.get(s.name)?.at ?? now),
      })),
      leftMs: deadline - now,
    });
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
