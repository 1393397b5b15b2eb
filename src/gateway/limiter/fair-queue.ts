/**
 * The fair queue in front of one provider's keys. A request goes straight through when a key has room and
 * nobody waits ahead of it; otherwise it waits. Higher priority goes first; among equals, the agent served
 * longest ago goes next (round robin by agent), so one chatty agent cannot starve the others. A request
 * whose earliest possible start is past its deadline is refused at once, with how long to wait.
 */
import type { Clock } from "./clock.ts";
import type { KeyBudget, Lease } from "./key-budget.ts";
import type { CancelSignal } from "../cancel-signal.ts";

export class QueueTimeoutError extends Error {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(`no capacity before the deadline; retry after ${Math.ceil(retryAfterMs)}ms`);
    this.name = "QueueTimeoutError";
    this.retryAfterMs = retryAfterMs;
  }
}

export interface AdmitRequest {
  agent: string;
  priority: number;
  estTokens: number;
  /** Absolute time (clock.now() units) after which waiting is pointless. */
  deadlineMs: number;
  signal?: CancelSignal;
}

export interface Grant {
  key: number;
  lease: Lease;
  waitedMs: number;
}

interface Waiter extends AdmitRequest {
  seq: number;
  enqueuedAt: number;
  resolve(grant: Grant): void;
  reject(err: Error): void;
  cleanup(): void;
}

export function createFairQueue(options: { clock: Clock; budgets: () => KeyBudget[] }) {
  const { clock } = options;
  const waiters: Waiter[] = [];
  const lastServed = new Map<string, number>();
  let seq = 0;
  let served = 0;
  let timer: { cancel(): void } | undefined;

  /** The first key with room, or the soonest any key could have room. */
  function probe(estTokens: number): { key: number } | { waitMs: number } {
    let soonest = Number.POSITIVE_INFINITY;
    for (const [key, budget] of options.budgets().entries()) {
      const result = budget.check(estTokens);
      if (result.ok) return { key };
      soonest = Math.min(soonest, result.waitMs);
    }
    return { waitMs: soonest };
  }

  /** Highest priority first; then the agent served longest ago; then arrival order. */
  function next(): Waiter | undefined {
    let best: Waiter | undefined;
    for (const w of waiters) {
      if (!best) best = w;
      else if (w.priority !== best.priority) best = w.priority > best.priority ? w : best;
      else {
        const a = lastServed.get(w.agent) ?? -1;
        const b = lastServed.get(best.agent) ?? -1;
        if (a < b || (a === b && w.seq < best.seq)) best = w;
      }
    }
    return best;
  }

  function remove(w: Waiter): void {
    const index = waiters.indexOf(w);
    if (index >= 0) waiters.splice(index, 1);
    w.cleanup();
  }

  function grant(key: number, request: AdmitRequest, enqueuedAt: number): Grant {
    const budget = options.budgets()[key] as KeyBudget;
    lastServed.set(request.agent, served++);
    return { key, lease: budget.acquire(request.estTokens), waitedMs: clock.now() - enqueuedAt };
  }

  function pump(): void {
    timer?.cancel();
    timer = undefined;
    let blockedFor: number;
    for (;;) {
      const w = next();
      if (!w) return;
      const found = probe(w.estTokens);
      if (!("key" in found)) {
        blockedFor = found.waitMs;
        break;
      }
      remove(w);
      w.resolve(grant(found.key, w, w.enqueuedAt));
    }
    // The head cannot go for `blockedFor` ms (infinite: until a release), and nobody passes the head, so
    // no waiter starts sooner. Refuse each one whose deadline comes first (not only the head: one behind
    // it must not sit on to its deadline unanswered), then wake at the next change. Comparisons only.
    const now = clock.now();
    const finite = Number.isFinite(blockedFor);
    let wake = finite ? blockedFor : Number.POSITIVE_INFINITY;
    for (const w of [...waiters]) {
      if (finite ? now + blockedFor > w.deadlineMs : now >= w.deadlineMs) {
        remove(w);
        w.reject(new QueueTimeoutError(finite ? blockedFor : 0));
      } else wake = Math.min(wake, w.deadlineMs - now);
    }
    if (waiters.length > 0 && Number.isFinite(wake)) timer = clock.setTimeout(pump, Math.max(1, wake));
  }

  let subscribed = false;
  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    for (const budget of options.budgets()) budget.onRelease(() => waiters.length > 0 && pump());
  }

  return {
    admit(request: AdmitRequest): Promise<Grant> {
      subscribe();
      const now = clock.now();
      if (request.signal?.aborted) return Promise.reject(new DOMException("aborted", "AbortError"));
      const found = probe(request.estTokens);
      if ("key" in found) {
        if (waiters.length === 0) return Promise.resolve(grant(found.key, request, now));
      } else if (Number.isFinite(found.waitMs) && now + found.waitMs > request.deadlineMs) {
        // Even with nobody ahead it could not start in time: refuse at once, saying when to come back.
        return Promise.reject(new QueueTimeoutError(found.waitMs));
      }
      return new Promise<Grant>((resolve, reject) => {
        const onAbort = () => {
          remove(waiter);
          reject(new DOMException("aborted", "AbortError"));
          pump();
        };
        const waiter: Waiter = {
          ...request,
          seq: seq++,
          enqueuedAt: now,
          resolve,
          reject,
          cleanup: () => request.signal?.removeEventListener("abort", onAbort),
        };
        request.signal?.addEventListener("abort", onAbort, { once: true });
        waiters.push(waiter);
        pump();
      });
    },
    depth(): number {
      return waiters.length;
    },
    waitingByAgent(): Record<string, number> {
      const counts: Record<string, number> = {};
      for (const w of waiters) counts[w.agent] = (counts[w.agent] ?? 0) + 1;
      return counts;
    },
  };
}

export type FairQueue = ReturnType<typeof createFairQueue>;
