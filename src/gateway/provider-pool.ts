/**
 * One provider at run time: its credentials (real keys or OAuth2 refresh tokens, read only here), a budget
 * per key, a fair queue over them, a breaker, and the keys retired because the provider refused them.
 */
import { resolveSecret } from "../config/secrets.ts";
import { type Credential, CredentialError, oauthCredential, staticCredential } from "./credentials.ts";
import { createBreaker } from "./limiter/breaker.ts";
import { type Clock, systemClock } from "./limiter/clock.ts";
import { BREAKER_COOLDOWN_MS, BREAKER_FAILURES } from "./limiter/defaults.ts";
import { createFairQueue, QueueTimeoutError } from "./limiter/fair-queue.ts";
import { createKeyBudget } from "./limiter/key-budget.ts";
import { type Admission, NoUsableKey, type ProviderRuntime, QueueTimeout } from "./provider-runtime.ts";
import type { Provider } from "./upstream.ts";
import { createUpstreamDispatcher } from "./upstream-dispatcher.ts";

const RETIRED_MS = 365 * 86_400_000; // a retired key stays out until the gateway restarts
const TOKEN_RETRY_MS = 30_000; // a token endpoint that could not be reached is asked again after this long

export interface RuntimeOptions {
  clock?: Clock;
  /** Records a gateway-level event (key retired, token refreshed, limits learned). */
  event?: (kind: string, data: Record<string, unknown>) => void;
  /** Where { env } secret references are looked up (default: the process's environment). */
  secretEnv?: NodeJS.ProcessEnv;
}

export function createProviderRuntime(provider: Provider, options: RuntimeOptions = {}): ProviderRuntime {
  const clock = options.clock ?? systemClock;
  const event = options.event ?? (() => {});
  const where = `providers.${provider.id}`;
  const dispatcher = createUpstreamDispatcher({ http2: provider.http2 });
  const auth = provider.auth;
  const clientSecret = auth?.clientSecret
    ? resolveSecret(auth.clientSecret, `${where}.auth.clientSecret`, options.secretEnv)
    : undefined;
  const credentials: Credential[] = provider.keys.map((ref, index) => {
    const secret = resolveSecret(ref, `${where}.keys.${index}`, options.secretEnv);
    if (!auth) return staticCredential(secret);
    const settings = { ...auth, clientSecret, dispatcher };
    return oauthCredential(settings, secret, clock, (kind, data) =>
      event(kind, { provider: provider.id, key: index, ...data }),
    );
  });
  const budgets = credentials.map(() => createKeyBudget(provider.limits, clock));
  const queue = createFairQueue({ clock, budgets: () => budgets });
  const breaker = createBreaker({ failures: BREAKER_FAILURES, cooldownMs: BREAKER_COOLDOWN_MS, clock });
  const retired = new Set<number>();

  function retire(keyIndex: number, reason: string): void {
    if (retired.has(keyIndex)) return;
    retired.add(keyIndex);
    budgets[keyIndex]?.cooldown(clock.now() + RETIRED_MS, reason);
    event("gateway.key_dead", {
      provider: provider.id,
      key: keyIndex,
      reason,
      usable: credentials.length - retired.size,
    });
  }

  return {
    provider,
    dispatcher,
    breaker,
    async admit(request): Promise<Admission> {
      for (;;) {
        if (retired.size === credentials.length) throw new NoUsableKey(provider.id);
        let granted;
        try {
          granted = await queue.admit(request);
        } catch (err) {
          if (retired.size === credentials.length) throw new NoUsableKey(provider.id);
          if (err instanceof QueueTimeoutError) throw new QueueTimeout(err.retryAfterMs);
          throw err;
        }
        const secret = (credentials[granted.key] as Credential).current();
        let apiKey: string;
        try {
          apiKey = typeof secret === "string" ? secret : await secret;
        } catch (err) {
          granted.lease.release();
          if (!(err instanceof CredentialError)) throw err;
          if (err.permanent) retire(granted.key, "refresh_refused");
          else budgets[granted.key]?.cooldown(clock.now() + TOKEN_RETRY_MS, "token_endpoint");
          if (request.signal.aborted) throw new DOMException("aborted", "AbortError");
          continue;
        }
        return { keyIndex: granted.key, apiKey, lease: granted.lease, waitedMs: granted.waitedMs };
      }
    },
    hasRoom(estTokens) {
      return budgets.some((budget) => budget.check(estTokens).ok);
    },
    learn(keyIndex, headers) {
      const learned = budgets[keyIndex]?.learn(headers);
      if (learned) event("gateway.limits_learned", { provider: provider.id, key: keyIndex, ...learned });
    },
    cooldown(keyIndex, untilMs, reason) {
      budgets[keyIndex]?.cooldown(untilMs, reason);
    },
    rejected(keyIndex, apiKey) {
      if ((credentials[keyIndex] as Credential).renew(apiKey)) return "renewed";
      retire(keyIndex, "rejected");
      return "retired";
    },
  };
}
