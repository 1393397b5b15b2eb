/** The simulator's own per-key limits, enforced the way a provider does: sliding windows, answering with 429s. */
import type { KeyLimits } from "./options.ts";

interface Hit {
  at: number;
  tokens: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

type Kind = "requests" | "tokens";
type Admission = { ok: true; release: () => void } | { ok: false; kind: Kind; retryAfterMs: number };

/** What an unlimited key's requests get: nothing to count, so nothing to release. */
const ALWAYS: Admission = { ok: true, release: () => {} };

export function createRateWindow(limits: KeyLimits, now: () => number) {
  const hits: Hit[] = [];
  // The windowed limits this key has, in the order they are checked; a request costs 1, or its tokens.
  const windowed: Array<[number | undefined, number, Kind]> = [
    [limits.rpm, MINUTE, "requests"],
    [limits.tpm, MINUTE, "tokens"],
    [limits.rph, HOUR, "requests"],
    [limits.tph, HOUR, "tokens"],
  ];
  const checks = windowed.flatMap(([max, span, kind]) => (max === undefined ? [] : [{ max, span, kind }]));
  const unlimited = checks.length === 0 && limits.concurrency === undefined;
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
    /** True when rate-limit headers have figures to report (an rpm or a tpm limit). */
    reportsLimits: limits.rpm !== undefined || limits.tpm !== undefined,
    /** Admits the request, or says which limit it breaks and when to retry. */
    take(tokens: number): Admission {
      if (unlimited) return ALWAYS;
      const t = now();
      while (hits.length > 0 && (hits[0] as Hit).at <= t - HOUR) hits.shift();
      for (const { max, span, kind } of checks) {
        const byTokens = kind === "tokens";
        if (used(span, t, byTokens) + (byTokens ? tokens : 1) > max)
          return { ok: false, kind, retryAfterMs: Math.max(1, resetMs(span, t)) };
      }
      if (limits.concurrency !== undefined && inFlight >= limits.concurrency)
        return { ok: false, kind: "requests", retryAfterMs: 1000 };
      // A key without windowed limits keeps no log.
      if (checks.length > 0) hits.push({ at: t, tokens });
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
