/** One provider at run time: its real keys (read only here), a budget per key, a fair queue over them, and a breaker. */
import { resolveSecret } from "../config/secrets.ts";
import { createBreaker } from "./limiter/breaker.ts";
import { BREAKER_COOLDOWN_MS, BREAKER_FAILURES } from "./limiter/defaults.ts";
import { createFairQueue, QueueTimeoutError } from "./limiter/fair-queue.ts";
import { createKeyBudget } from "./limiter/key-budget.ts";
import { type Clock, systemClock } from "./limiter/clock.ts";
import { type ProviderRuntime, QueueTimeout } from "./provider-runtime.ts";
import type { Provider } from "./upstream.ts";

export function createProviderRuntime(provider: Provider, clock: Clock = systemClock): ProviderRuntime {
  const keys = provider.keys.map((ref, index) =>
    resolveSecret(ref, `providers.${provider.id}.keys.${index}`),
  );
  const budgets = keys.map(() => createKeyBudget(provider.limits, clock));
  const queue = createFairQueue({ clock, budgets: () => budgets });
  const breaker = createBreaker({ failures: BREAKER_FAILURES, cooldownMs: BREAKER_COOLDOWN_MS, clock });
  return {
    provider,
    breaker,
    async admit(request) {
      try {
        const granted = await queue.admit(request);
        return {
          keyIndex: granted.key,
          apiKey: keys[granted.key] as string,
          lease: granted.lease,
          waitedMs: granted.waitedMs,
        };
      } catch (err) {
        if (err instanceof QueueTimeoutError) throw new QueueTimeout(err.retryAfterMs);
        throw err;
      }
    },
    hasRoom(estTokens) {
      return budgets.some((budget) => budget.check(estTokens).ok);
    },
    learn(keyIndex, headers) {
      budgets[keyIndex]?.learn(Object.fromEntries(headers));
    },
    cooldown(keyIndex, untilMs, reason) {
      budgets[keyIndex]?.cooldown(untilMs, reason);
    },
  };
}
