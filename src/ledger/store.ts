/** The ledger's Store interface: an append-only event log that never blocks the caller's hot path. */

/** One recorded event. */
export interface LedgerEvent {
  /** Increases with every append; use it as a cursor (`sinceId`). */
  id: number;
  /** Milliseconds since the epoch. */
  ts: number;
  /** Dotted name such as `agent.started`; the module that writes an event owns its kind. */
  kind: string;
  /** The agent the event is about, or null for fleet and daemon events. */
  agent: string | null;
  data: Record<string, unknown>;
}

/** An event to append; `ts` defaults to the time of the append, `data` to `{}`. */
export interface NewEvent {
  kind: string;
  agent?: string;
  /** Must survive JSON.stringify; it is captured at append, so later changes to the object do not show. */
  data?: Record<string, unknown>;
  ts?: number;
}

/** Filters for `Store.query`; all given filters must match. */
export interface EventQuery {
  /** Exactly this kind. */
  kind?: string;
  /** Kinds that start with this text, taken literally (no wildcards). */
  kindPrefix?: string;
  agent?: string;
  /** Only events with an id greater than this. */
  sinceId?: number;
  /** Newest `limit` events (default 100), returned oldest first. */
  limit?: number;
}

/** The event ledger. Appends are queued and written in batches; reads see every earlier append. */
export interface Store {
  /** Queues an event; it is written with the next batch. Never throws and never waits on the disk. */
  append(event: NewEvent): void;
  /** Writes everything queued now, in one transaction. */
  flush(): void;
  /** Flushes, then reads. */
  query(q?: EventQuery): LedgerEvent[];
  /** Flushes and closes; idempotent. Appends after close are dropped. */
  close(): void;
}
