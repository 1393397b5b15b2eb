/** What the router needs of one provider at run time: a breaker, admission to one of its keys, and key state changes. */
import type { Dispatcher } from "undici";
import type { HeaderRecord } from "./header-record.ts";
import type { Provider } from "./upstream.ts";
import type { CancelSignal } from "./cancel-signal.ts";

export interface Lease {
  settle(actualTokens: number): void;
  release(): void;
}

export interface Admission {
  keyIndex: number;
  apiKey: string;
  lease: Lease;
  waitedMs: number;
}

export interface AdmitRequest {
  agent: string;
  priority: number;
  estTokens: number;
  deadlineMs: number;
  signal: CancelSignal;
}

/** Raised when a request cannot be admitted within its wait budget. */
export class QueueTimeout extends Error {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(`no capacity within the wait budget; retry after ${retryAfterMs}ms`);
    this.name = "QueueTimeout";
    this.retryAfterMs = retryAfterMs;
  }
}

/** Raised when every key of the provider has been retired (rejected by the provider, or its refresh token refused). */
export class NoUsableKey extends Error {
  constructor(provider: string) {
    super(`${provider}: every key was rejected`);
    this.name = "NoUsableKey";
  }
}

export interface ProviderRuntime {
  provider: Provider;
  /** The provider's keep-alive, proxy-aware connection pool, for model calls and token refreshes. */
  dispatcher: Dispatcher;
  breaker: { allow(): boolean; success(): void; failure(): void };
  /** Waits for a key with room; rejects with QueueTimeout, NoUsableKey, or an AbortError when the caller went away. */
  admit(request: AdmitRequest): Promise<Admission>;
  /** Learns limits and remaining quota from an upstream response's headers. */
  learn(keyIndex: number, headers: HeaderRecord): void;
  /** Whether some key could take a request of this size right now (no waiting). */
  hasRoom(estTokens: number): boolean;
  /** Nothing is sent with this key until the time given (Retry-After, a quota or billing block). */
  cooldown(keyIndex: number, untilMs: number, reason: string): void;
  /**
   * The provider refused `apiKey` (401/403). Returns "renewed" when the credential fetches a new token (try
   * again), or "retired" when the key is out for good (until the gateway restarts).
   */
  rejected(keyIndex: number, apiKey: string): "renewed" | "retired";
}
