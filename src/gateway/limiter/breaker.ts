/** A circuit breaker per provider: open after consecutive failures, one probe after a cool-down that doubles while probes fail. */
import type { Clock } from "./clock.ts";
import { BREAKER_MAX_COOLDOWN_MS } from "./defaults.ts";

export type BreakerState = "closed" | "open" | "half-open";

export function createBreaker(options: { failures: number; cooldownMs: number; clock: Clock }) {
  let state: BreakerState = "closed";
  let failures = 0;
  let cooldown = options.cooldownMs;
  let openedAt = 0;
  let probing = false;

  return {
    /** Whether a request may go to the provider now; in half-open, exactly one probe is let through. */
    allow(): boolean {
      if (state === "closed") return true;
      if (state === "open" && options.clock.now() - openedAt >= cooldown) state = "half-open";
      if (state === "half-open" && !probing) {
        probing = true;
        return true;
      }
      return false;
    },
    success(): void {
      state = "closed";
      failures = 0;
      probing = false;
      cooldown = options.cooldownMs;
    },
    failure(): void {
      if (state === "half-open") {
        cooldown = Math.min(cooldown * 2, BREAKER_MAX_COOLDOWN_MS);
        state = "open";
        openedAt = options.clock.now();
        probing = false;
        return;
      }
      failures++;
      if (failures >= options.failures) {
        state = "open";
        openedAt = options.clock.now();
      }
    },
    state(): BreakerState {
      if (state === "open" && options.clock.now() - openedAt >= cooldown) return "half-open";
      return state;
    },
  };
}
