/** The simulator's own per-key limits, enforced the way a provider does: sliding windows, answering with 429s. */
import type { KeyLimits } from "./options.ts";

interface Hit {
  at: number;
  tokens: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

export function createRateWindow(limits: KeyLimits, now: () => number) {
  const hits: Hit[] = [];
  const windowed = [limits.rpm, limits.tpm, limits.rph, limits.tph].some((max) => max !== undefined);
  let inFlight = 0;

  function used(span: number, t: number, byTokens: boolean): number {
    return hits.filter((h) => h.at > t - span).reduce((sum, h) => sum + (byTokens ? h.tokens : 1), 0);
  }

  /** When the oldest hit inside `span` leaves it. */
  function resetMs(span: number, t: number): number {
    const oldest = hits.find((h) => h.at > t - span);
    return oldest ? oldest.at + span - t : 0;
  }

  return {
    /** Admits the request, or says which limit it breaks and when to retry. */
    take(
      tokens: number,
    ): { ok: true; release: () => void } | { ok: false; kind: "requests" | "tokens"; retryAfterMs: number } {
      const t = now();
      while (hits.length > 0 && (hits[0] as Hit).at <= t - HOUR) hits.shift();
      const checks: Array<[number | undefined, number, number, boolean, "requests" | "tokens"]> = [
        [limits.rpm, MINUTE, 1, false, "requests"],
        [limits.tpm, MINUTE, tokens, true, "tokens"],
        [limits.rph, HOUR, 1, false, "requests"],
        [limits.tph, HOUR, tokens, true, "tokens"],
      ];
      for (const [max, span, cost, byTokens, kind] of checks) {
        if (max !== undefined && used(span, t, byTokens) + cost > max)
          return { ok: false, kind, retryAfterMs: Math.max(1, resetMs(span, t)) };
      }
      if (limits.concurrency !== undefined && inFlight >= limits.concurrency)
        return { ok: false, kind: "requests", retryAfterMs: 1000 };
      // A key without windowed limits keeps no log, so an unlimited key costs the same on every request.
      if (windowed) hits.push({ at: t, tokens });
      inFlight++;
      let done = false;
      return {
        ok: true,
        release: () => {
          if (!done) inFlight--;
          done = true;
        },
      };
    },
    /** Limit and remaining figures for the rate-limit headers. */
    state(): {
      rpm?: number;
      tpm?: number;
      remainingRequests?: number;
      remainingTokens?: number;
      resetMs: number;
    } {
      const t = now();
      return {
        ...(limits.rpm === undefined
          ? {}
          : { rpm: limits.rpm, remainingRequests: Math.max(0, limits.rpm - used(MINUTE, t, false)) }),
        ...(limits.tpm === undefined
          ? {}
          : { tpm: limits.tpm, remainingTokens: Math.max(0, limits.tpm - used(MINUTE, t, true)) }),
        resetMs: resetMs(MINUTE, t),
      };
    },
  };
}

export type RateWindow = ReturnType<typeof createRateWindow>;
