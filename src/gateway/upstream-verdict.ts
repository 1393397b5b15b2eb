/**
 * What an upstream's error answer means for the key that sent it. A 429 is a pause (honour Retry-After or
 * Retry-After-Ms); a spent quota or a billing problem (OpenAI `insufficient_quota`, Anthropic's low credit
 * balance or `billing_error`) takes the key out for a while; 401/403 retires it; 5xx and 408 count against
 * the provider's breaker; any other 4xx is the caller's own mistake and goes back to them.
 */
import { type HeaderRecord, headerValue } from "./header-record.ts";

export type Verdict =
  | { kind: "rate_limited"; waitMs: number }
  | { kind: "quota"; waitMs: number }
  | { kind: "rejected" }
  | { kind: "server" }
  | { kind: "caller" };

export const QUOTA_DISABLE_MS = 10 * 60_000; // a billing or quota error takes a key out for 10 minutes
export const DEFAULT_RETRY_AFTER_MS = 1_000; // a 429 without Retry-After cools its key down this long

const QUOTA_TEXT = /insufficient_quota|billing|credit balance|exceeded your current quota/i;

/** Retry-After-Ms, else Retry-After in seconds or as an HTTP date; undefined when neither is usable. */
export function retryAfterMs(headers: HeaderRecord, now = Date.now()): number | undefined {
  const ms = Number(headerValue(headers, "retry-after-ms"));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const text = headerValue(headers, "retry-after");
  if (!text) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Classifies a non-2xx upstream answer from its status, headers and (first part of the) body. */
export function classifyFailure(status: number, headers: HeaderRecord, text: string): Verdict {
  if (status === 402) return { kind: "quota", waitMs: QUOTA_DISABLE_MS };
  if ((status === 429 || status === 400 || status === 403) && QUOTA_TEXT.test(text))
    return { kind: "quota", waitMs: QUOTA_DISABLE_MS };
  if (status === 429)
    return { kind: "rate_limited", waitMs: retryAfterMs(headers) ?? DEFAULT_RETRY_AFTER_MS };
  if (status === 401 || status === 403) return { kind: "rejected" };
  if (status >= 500 || status === 408) return { kind: "server" };
  return { kind: "caller" };
}
