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

/**
 * The hits of the last hour in time order, with a running sum per span: each span keeps the index of its
 * oldest hit still inside it, so a check is O(1) and the log is trimmed as it goes (exact, not slotted).
 */
class HitLog {
  readonly #hits: Hit[] = [];
  readonly #spans: Array<{ span: number; start: number; requests: number; tokens: number }>;

  constructor(spans: number[]) {
    this.#spans = spans.map((span) => ({ span, start: 0, requests: 0, tokens: 0 }));
  }

  /** Lets every hit that is no longer inside a span leave it (at time t). */
  advance(t: number): void {
    for (const s of this.#spans) {
      for (let hit = this.#hits[s.start]; hit && hit.at <= t - s.span; hit = this.#hits[++s.start]) {
        s.requests--;
        s.tokens -= hit.tokens;
      }
    }
    // Drop what every span has passed, once that is most of the array (amortized O(1)).
    const passed = Math.min(...this.#spans.map((s) => s.start));
    if (passed > 1024 && passed * 2 > this.#hits.length) {
      this.#hits.splice(0, passed);
      for (const s of this.#spans) s.start -= passed;
    }
  }

  add(hit: Hit): void {
    this.#hits.push(hit);
    for (const s of this.#spans) {
      s.requests++;
      s.tokens += hit.tokens;
    }
  }

  used(span: number, byTokens: boolean): number {
    const s = this.#spans.find((x) => x.span === span);
    return s ? (byTokens ? s.tokens : s.requests) : 0;
  }

  /** When the oldest hit inside `span` leaves it (ms after t). */
  resetMs(span: number, t: number): number {
    const s = this.#spans.find((x) => x.span === span);
    const oldest = s ? this.#hits[s.start] : undefined;
    return oldest ? oldest.at + span - t : 0;
  }
}

export function createRateWindow(limits: KeyLimits, now: () => number) {
  // The windowed limits this key has, in the order they are checked; a request costs 1, or its tokens.
  const windowed: Array<[number | undefined, number, Kind]> = [
    [limits.rpm, MINUTE, "requests"],
    [limits.tpm, MINUTE, "tokens"],
    [limits.rph, HOUR, "requests"],
    [limits.tph, HOUR, "tokens"],
  ];
  const checks = windowed.flatMap(([max, span, kind]) => (max === undefined ? [] : [{ max, span, kind }]));
  const unlimited = checks.length === 0 && limits.concurrency === undefined;
  // The minute is always kept: the rate-limit headers report it.
  const log = new HitLog([MINUTE, HOUR]);
  let inFlight = 0;

  return {
    /** True when rate-limit headers have figures to report (an rpm or a tpm limit). */
    reportsLimits: limits.rpm !== undefined || limits.tpm !== undefined,
    /** Admits the request, or says which limit it breaks and when to retry. */
    take(tokens: number): Admission {
      if (unlimited) return ALWAYS;
      const t = now();
      log.advance(t);
      for (const { max, span, kind } of checks) {
        const byTokens = kind === "tokens";
        if (log.used(span, byTokens) + (byTokens ? tokens : 1) > max)
          return { ok: false, kind, retryAfterMs: Math.max(1, log.resetMs(span, t)) };
      }
      if (limits.concurrency !== undefined && inFlight >= limits.concurrency)
        return { ok: false, kind: "requests", retryAfterMs: 1000 };
      // A key without windowed limits keeps no log.
      if (checks.length > 0) log.add({ at: t, tokens });
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
      log.advance(t);
      return {
        ...(limits.rpm === undefined
          ? {}
          : { rpm: limits.rpm, remainingRequests: Math.max(0, limits.rpm - log.used(MINUTE, false)) }),
        ...(limits.tpm === undefined
          ? {}
          : { tpm: limits.tpm, remainingTokens: Math.max(0, limits.tpm - log.used(MINUTE, true)) }),
        resetMs: log.resetMs(MINUTE, t),
      };
    },
  };
}

export type RateWindow = ReturnType<typeof createRateWindow>;
