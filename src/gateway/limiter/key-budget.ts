/**
 * Accounting for one provider key: requests and tokens per minute and per hour, and requests in flight.
 * Sliding windows of admissions in 100 ms slots (the minute) and 1 s slots (the hour) never admit more
 * than a limit and say when the next request would fit, to within one slot and never too early; memory
 * stays the same at any request rate.
 */
import { type HeaderRecord, headerValue as header } from "../header-record.ts";
import type { Clock } from "./clock.ts";
import { HOUR_MS, MINUTE_MS } from "./defaults.ts";
import { SlotWindow } from "./slot-window.ts";

/** The remaining-quota headers of both protocols, named once rather than built on every answer. */
const QUOTA_HEADERS = (["requests", "tokens"] as const).map((kind) => ({
  kind,
  remainingHeaders: [`x-ratelimit-remaining-${kind}`, `anthropic-ratelimit-${kind}-remaining`] as const,
  openaiResetHeader: `x-ratelimit-reset-${kind}`,
  anthropicResetHeader: `anthropic-ratelimit-${kind}-reset`,
}));

export interface Limits {
  rpm?: number;
  tpm?: number;
  rph?: number;
  tph?: number;
  concurrency?: number;
}

export interface Lease {
  /** Replaces the estimate with the real token count once usage is known. */
  settle(actualTokens: number): void;
  /** The request finished: frees its concurrency slot. */
  release(): void;
}

export type CheckResult = { ok: true } | { ok: false; waitMs: number; reason: string };

/** "6m0s", "1.5s", "20ms" → milliseconds. */
export function parseResetDuration(text: string): number | undefined {
  let total = 0;
  let matched = false;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    matched = true;
    total +=
      Number(value) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms" | "s" | "m" | "h"] ?? 0);
  }
  return matched ? total : undefined;
}

export function createKeyBudget(configured: Limits, clock: Clock) {
  const limits: Limits = { ...configured };
  const minute = new SlotWindow(MINUTE_MS, 100);
  const hour = new SlotWindow(HOUR_MS, 1000);
  let inFlight = 0;
  let coolUntil = 0;
  const listeners = new Set<() => void>();
  // What the provider said is left until its reset (others may share the key): spent by each admission.
  const allowance: Partial<Record<"requests" | "tokens", { left: number; until: number }>> = {};

  /** Charges an admission to the provider's stated allowance; none left cools the key until its reset. */
  function spend(now: number, tokens: number): void {
    for (const [kind, cost] of [
      ["requests", 1],
      ["tokens", tokens],
    ] as const) {
      const a = allowance[kind];
      if (!a) continue;
      if (a.until <= now) delete allowance[kind];
      else if ((a.left -= cost) <= 0) coolUntil = Math.max(coolUntil, a.until);
    }
  }

  function prune(now: number): void {
    minute.expire(now);
    hour.expire(now);
  }

  /** When `window` would admit one more request of `tokens` under `max` (by count or by tokens). */
  function waitFor(
    now: number,
    window: SlotWindow,
    max: number | undefined,
    tokens: number,
    byTokens: boolean,
  ): number {
    if (max === undefined) return 0;
    const used = byTokens ? window.tokens : window.requests;
    return window.waitFor(now, (byTokens ? Math.min(tokens, max) : 1) + used - max, byTokens);
  }

  return {
    check(estTokens: number): CheckResult {
      const now = clock.now();
      prune(now);
      if (coolUntil > now) return { ok: false, waitMs: coolUntil - now, reason: "cooldown" };
      let waitMs = 0;
      let reason = "";
      for (const [wait, name] of [
        [waitFor(now, minute, limits.rpm, estTokens, false), "rpm"],
        [waitFor(now, minute, limits.tpm, estTokens, true), "tpm"],
        [waitFor(now, hour, limits.rph, estTokens, false), "rph"],
        [waitFor(now, hour, limits.tph, estTokens, true), "tph"],
      ] as const) {
        if (wait > waitMs) [waitMs, reason] = [wait, name];
      }
      if (waitMs > 0) return { ok: false, waitMs, reason };
      if (limits.concurrency !== undefined && inFlight >= limits.concurrency) {
        return { ok: false, waitMs: Number.POSITIVE_INFINITY, reason: "concurrency" };
      }
      return { ok: true };
    },
    acquire(estTokens: number): Lease {
      const at = clock.now();
      if (allowance.requests || allowance.tokens) spend(at, estTokens);
      const inMinute = minute.add(at, estTokens);
      const inHour = hour.add(at, estTokens);
      let tokens = estTokens;
      inFlight++;
      let released = false;
      return {
        settle(actualTokens) {
          minute.adjust(inMinute, actualTokens - tokens);
          hour.adjust(inHour, actualTokens - tokens);
          tokens = actualTokens;
        },
        release() {
          if (released) return;
          released = true;
          inFlight--;
          for (const listener of listeners) listener();
        },
      };
    },
    /** Nothing is admitted before `untilMs` (a Retry-After, a dead key). */
    cooldown(untilMs: number, _reason?: string): void {
      coolUntil = Math.max(coolUntil, untilMs);
    },
    /**
     * Learns limits and remaining quota from OpenAI `x-ratelimit-*` or Anthropic `anthropic-ratelimit-*`
     * headers: a lower real limit replaces the configured one; the remaining quota is an allowance that
     * admissions spend (someone else may share the key), and none left cools the key down until the reset.
     * Returns the limits it tightened, if any.
     */
    learn(headers: HeaderRecord): { rpm?: number; tpm?: number } | undefined {
      const now = clock.now();
      let changed: { rpm?: number; tpm?: number } | undefined;
      const tighten = (key: "rpm" | "tpm", value: string | undefined) => {
        const n = Number(value);
        if (value === undefined || !Number.isFinite(n) || n <= 0 || n >= (limits[key] ?? Infinity)) return;
        limits[key] = n;
        changed = { ...changed, [key]: n };
      };
      tighten(
        "rpm",
        header(headers, "x-ratelimit-limit-requests") ??
          header(headers, "anthropic-ratelimit-requests-limit"),
      );
      tighten(
        "tpm",
        header(headers, "x-ratelimit-limit-tokens") ?? header(headers, "anthropic-ratelimit-tokens-limit"),
      );
      for (const { kind, remainingHeaders, openaiResetHeader, anthropicResetHeader } of QUOTA_HEADERS) {
        const text = header(headers, remainingHeaders[0]) ?? header(headers, remainingHeaders[1]);
        const remaining = Number(text);
        if (text === undefined || !Number.isFinite(remaining)) continue;
        const openaiReset = header(headers, openaiResetHeader);
        const anthropicReset = header(headers, anthropicResetHeader);
        const resetMs = openaiReset
          ? parseResetDuration(openaiReset)
          : anthropicReset
            ? Date.parse(anthropicReset) - Date.now()
            : undefined;
        if (resetMs === undefined || !Number.isFinite(resetMs) || resetMs <= 0) continue;
        // The answer's own request is still in flight here; the others in flight are not in its count yet.
        const left = kind === "requests" ? remaining - Math.max(0, inFlight - 1) : remaining;
        if (left <= 0) coolUntil = Math.max(coolUntil, now + resetMs);
        else allowance[kind] = { left, until: now + resetMs };
      }
      return changed;
    },
    /** Called whenever a slot frees up. */
    onRelease(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot() {
      const now = clock.now();
      prune(now);
      return {
        limits: { ...limits },
        minute: { requests: minute.requests, tokens: minute.tokens },
        hour: { requests: hour.requests, tokens: hour.tokens },
        inFlight,
        coolUntil: coolUntil > now ? coolUntil : null,
      };
    },
  };
}

export type KeyBudget = ReturnType<typeof createKeyBudget>;
