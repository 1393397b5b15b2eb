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

/** One span's running sums over the log, and the index of its oldest hit still inside it. */
interface Span {
  ms: number;
  start: number;
  requests: number;
  tokens: number;
}

/**
 * The hits of the last hour in time order, with running sums for the minute and the hour: each span keeps
 * the index of its oldest hit still inside it, so a check is O(1) and the log is trimmed as it goes (exact,
 * not slotted).
 */
class HitLog {
  readonly #hits: Hit[] = [];
  readonly minute: Span = { ms: MINUTE, start: 0, requests: 0, tokens: 0 };
  readonly hour: Span = { ms: HOUR, start: 0, requests: 0, tokens: 0 };
  readonly #spans = [this.minute, this.hour];

  /** Lets every hit that is no longer inside a span leave it (at time t). */
  advance(t: number): void {
    for (const s of this.#spans) {
      for (let hit = this.#hits[s.start]; hit && hit.at <= t - s.ms; hit = this.#hits[++s.start]) {
        s.requests--;
        s.tokens -= hit.tokens;
      }
    }
    // The hour's start is the oldest hit anyone counts: drop what is before it once that is most of the
    // array (amortized O(1)).
    const passed = this.hour.start;
    if (passed > 1024 && passed * 2 > this.#hits.length) {
      this.#hits.splice(0, passed);
      this.minute.start -= passed;
      this.hour.start = 0;
    }
  }

  add(hit: Hit): void {
    this.#hits.push(hit);
    for (const s of this.#spans) {
      s.requests++;
      s.tokens += hit.tokens;
    }
  }

  /** When the oldest hit inside `span` leaves it (ms after t). */
  resetMs(span: Span, t: number): number {
    const oldest = this.#hits[span.start];
    return oldest ? oldest.at + span.ms - t : 0;
  }
}

export function createRateWindow(limits: KeyLimits, now: () => number) {
  // The minute is always kept: the rate-limit headers report it.
  const log = new HitLog();
  // The windowed limits this key has, in the order they are checked; a request costs 1, or its tokens.
  const windowed: Array<[number | undefined, Span, Kind]> = [
    [limits.rpm, log.minute, "requests"],
    [limits.tpm, log.minute, "tokens"],
    [limits.rph, log.hour, "requests"],
    [limits.tph, log.hour, "tokens"],
  ];
  const checks = windowed.flatMap(([max, span, kind]) => (max === undefined ? [] : [{ max, span, kind }]));
  const unlimited = checks.length === 0 && limits.concurrency === undefined;
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
        if ((byTokens ? span.tokens + tokens : span.requests + 1) > max)
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
          : { rpm: limits.rpm, remainingRequests: Math.max(0, limits.rpm - log.minute.requests) }),
        ...(limits.tpm === undefined
          ? {}
          : { tpm: limits.tpm, remainingTokens: Math.max(0, limits.tpm - log.minute.tokens) }),
        resetMs: log.resetMs(log.minute, t),
      };
    },
  };
}

export type RateWindow = ReturnType<typeof createRateWindow>;
