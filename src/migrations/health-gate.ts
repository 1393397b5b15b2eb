/** Waits until a set of agents has been running, without a restart, for a while; or says which did not. */
import type { AgentStatus } from "../supervisor/agent-runner.ts";

export interface GateOptions {
  names: string[];
  status: (name: string) => AgentStatus;
  /** Give up after this long (ms). */
  timeout: number;
  /** Each agent must stay running, with no restart, this long (ms). */
  healthyFor: number;
  signal?: AbortSignal;
  pollMs?: number;
}

/** An agent that did not become healthy, and why, in words an operator can act on. */
export interface GateFailure {
  name: string;
  state: string;
  reason: string;
}

function reasonOf(status: AgentStatus): string {
  const exit = status.lastExit;
  const parts = [`state ${status.state}`];
  if (exit) parts.push(`last exit code=${exit.code} signal=${exit.signal}`);
  if (status.health.error) parts.push(`health: ${status.health.error}`);
  if (status.restarts > 0) parts.push(`${status.restarts} restarts`);
  return parts.join(", ");
}

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
    // An agent that ended up stopped or failed has given up (its restart policy said so): fail now.
    const gaveUp = pending.some((s) => s.state === "stopped" || s.state === "failed");
    if (gaveUp || now >= deadline || options.signal?.aborted) {
      return pending.map((status) => ({ name: status.name, state: status.state, reason: reasonOf(status) }));
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
