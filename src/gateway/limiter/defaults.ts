/** Retry, timeout and backoff defaults of the gateway's admission control, in one place. */

export const BREAKER_FAILURES = 3; // consecutive 5xx / timeouts / refused connections that open a breaker
export const BREAKER_COOLDOWN_MS = 30_000; // an open breaker lets one probe through after this long
export const BREAKER_MAX_COOLDOWN_MS = 300_000; // a failing probe doubles the cool-down up to 5 minutes
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
