/** The ledger's Store interface: an append-only event log that never blocks the caller's hot path. */

/** One recorded event. */
export interface LedgerEvent {
  id: number;
  /** Milliseconds since the epoch. */
  ts: number;
  kind: string;
  agent: string | null;
  data: Record<string, unknown>;
}

export interface NewEvent {
  kind: string;
  agent?: string;
  data?: Record<string, unknown>;
  ts?: number;
}

export interface EventQuery {
  kind?: string;
  kindPrefix?: string;
  agent?: string;
  sinceId?: number;
  /** Newest `limit` events (default 100), returned oldest first. */
  limit?: number;
}

export interface Store {
  /** Queues an event; it is written with the next batch. */
  append(event: NewEvent): void;
  /** Writes everything queued now, in one transaction. */
  flush(): void;
  /** Flushes, then reads. */
  query(q?: EventQuery): LedgerEvent[];
  /** Flushes and closes; idempotent. */
  close(): void;
}
