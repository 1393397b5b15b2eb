/**
 * The notifier's durable state, in <stateDir>/alerts.db (node:sqlite, WAL): alerts waiting for delivery,
 * the throttle's last send per channel and finding, and injected findings until they are acknowledged. It
 * outlives the daemon, so a receiver that was down gets its alert after a restart. It holds no URL and no
 * token: those are resolved from the config at each send.
 */
import { openVersionedFile } from "../sqlite-file.ts";
import type { Alert } from "./alert.ts";

/** MIGRATIONS[i] brings the file to version i + 1 (PRAGMA user_version); only ever append. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE queue (
     id INTEGER PRIMARY KEY,
     channel TEXT NOT NULL,
     finding TEXT NOT NULL,
     alert TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL,
     created INTEGER NOT NULL,
     last_error TEXT
   );
   CREATE INDEX queue_due ON queue (next_at);
   CREATE TABLE throttle (
     channel TEXT NOT NULL,
     finding TEXT NOT NULL,
     last_at INTEGER NOT NULL,
     held INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (channel, finding)
   );
   CREATE TABLE injections (
     finding TEXT PRIMARY KEY,
     agent TEXT NOT NULL,
     message TEXT NOT NULL,
     alert TEXT NOT NULL,
     runs INTEGER NOT NULL DEFAULT 0,
     sent INTEGER NOT NULL DEFAULT 0,
     last_run INTEGER NOT NULL DEFAULT 0,
     escalated INTEGER NOT NULL DEFAULT 0,
     stopped TEXT
   );`,
];

export interface QueuedAlert {
  id: number;
  channel: string;
  alert: Alert;
  attempts: number;
  nextAt: number;
  created: number;
}

/** An injected critical finding: what was said, how often, and whether it went to the alert channels. */
export interface Injection {
  finding: string;
  agent: string;
  message: string;
  alert: Alert;
  /** Runs in which it was pending (and sent, or tried). */
  runs: number;
  /** Runs in which it was delivered into the agent's session. */
  sent: number;
  lastRun: number;
  escalated: boolean;
  /** Why it is no longer sent (acknowledged, resolved), or null while it is. */
  stopped: string | null;
}

export type AlertStore = ReturnType<typeof openAlertStore>;

interface QueueRow {
  id: number;
  channel: string;
  alert: string;
  attempts: number;
  next_at: number;
  created: number;
}

interface InjectionRow {
  finding: string;
  agent: string;
  message: string;
  alert: string;
  runs: number;
  sent: number;
  last_run: number;
  escalated: number;
  stopped: string | null;
}

const toQueued = (row: QueueRow): QueuedAlert => ({
  id: row.id,
  channel: row.channel,
  alert: JSON.parse(row.alert) as Alert,
  attempts: row.attempts,
  nextAt: row.next_at,
  created: row.created,
});

const toInjection = (row: InjectionRow): Injection => ({
  finding: row.finding,
  agent: row.agent,
  message: row.message,
  alert: JSON.parse(row.alert) as Alert,
  runs: row.runs,
  sent: row.sent,
  lastRun: row.last_run,
  escalated: row.escalated === 1,
  stopped: row.stopped,
});

/** Opens (creating and migrating) the store at path; statements are prepared once. */
export function openAlertStore(path: string) {
  const db = openVersionedFile(path, { what: "the alert queue", migrations: MIGRATIONS });
  const q = {
    insert: db.prepare(
      "INSERT INTO queue (channel, finding, alert, next_at, created) VALUES (?, ?, ?, ?, ?) RETURNING id",
    ),
    due: db.prepare("SELECT * FROM queue WHERE next_at <= ? ORDER BY next_at, id LIMIT ?"),
    all: db.prepare("SELECT * FROM queue ORDER BY id"),
    count: db.prepare("SELECT count(*) AS n FROM queue"),
    oldest: db.prepare("SELECT * FROM queue ORDER BY id LIMIT 1"),
    nextAt: db.prepare("SELECT min(next_at) AS at FROM queue"),
    remove: db.prepare("DELETE FROM queue WHERE id = ?"),
    channels: db.prepare("SELECT DISTINCT channel FROM queue"),
    ofChannel: db.prepare("SELECT * FROM queue WHERE channel = ? ORDER BY id"),
    retry: db.prepare("UPDATE queue SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?"),
    postpone: db.prepare("UPDATE queue SET next_at = max(next_at, ?) WHERE channel = ?"),
    throttleGet: db.prepare("SELECT last_at, held FROM throttle WHERE channel = ? AND finding = ?"),
    throttleSet: db.prepare(
      `INSERT INTO throttle (channel, finding, last_at, held) VALUES (?, ?, ?, ?)
       ON CONFLICT (channel, finding) DO UPDATE SET last_at = excluded.last_at, held = excluded.held`,
    ),
    injectionGet: db.prepare("SELECT * FROM injections WHERE finding = ?"),
    injectionsPending: db.prepare("SELECT * FROM injections WHERE stopped IS NULL ORDER BY rowid"),
    injectionSet: db.prepare(
      `INSERT INTO injections (finding, agent, message, alert, runs, sent, last_run, escalated, stopped)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (finding) DO UPDATE SET agent = excluded.agent, message = excluded.message,
         alert = excluded.alert, runs = excluded.runs, sent = excluded.sent, last_run = excluded.last_run,
         escalated = excluded.escalated, stopped = excluded.stopped`,
    ),
  };
  return {
    enqueue(channel: string, alert: Alert, now: number): number {
      const row = q.insert.get(channel, alert.finding.id, JSON.stringify(alert), now, now);
      return Number(row?.id);
    },
    due: (now: number, limit: number) => (q.due.all(now, limit) as unknown as QueueRow[]).map(toQueued),
    all: () => (q.all.all() as unknown as QueueRow[]).map(toQueued),
    count: () => Number(q.count.get()?.n ?? 0),
    oldest: () => {
      const row = q.oldest.get() as unknown as QueueRow | undefined;
      return row && toQueued(row);
    },
    /** When the next queued alert is due, or undefined when nothing is queued. */
    nextDueAt: (): number | undefined => {
      const at = q.nextAt.get()?.at;
      return typeof at === "number" ? at : undefined;
    },
    remove: (id: number) => void q.remove.run(id),
    /** Channels that have alerts queued. */
    queuedChannels: () => (q.channels.all() as Array<{ channel: string }>).map((row) => row.channel),
    ofChannel: (channel: string) => (q.ofChannel.all(channel) as unknown as QueueRow[]).map(toQueued),
    /** Moves a channel's queued alerts to at least nextAt (its receiver just failed), counting no attempt. */
    postponeChannel: (channel: string, nextAt: number) => void q.postpone.run(nextAt, channel),
    /** Records a failed attempt; error is a safe reason (no URL, no token). */
    retryAt: (id: number, nextAt: number, error: string) => void q.retry.run(nextAt, error, id),
    throttle(channel: string, finding: string): { lastAt: number; held: number } | undefined {
      const row = q.throttleGet.get(channel, finding) as { last_at: number; held: number } | undefined;
      return row && { lastAt: row.last_at, held: row.held };
    },
    setThrottle: (channel: string, finding: string, lastAt: number, held: number) =>
      void q.throttleSet.run(channel, finding, lastAt, held),
    injection(finding: string): Injection | undefined {
      const row = q.injectionGet.get(finding) as unknown as InjectionRow | undefined;
      return row && toInjection(row);
    },
    pendingInjections: () => (q.injectionsPending.all() as unknown as InjectionRow[]).map(toInjection),
    saveInjection(i: Injection): void {
      q.injectionSet.run(
        i.finding,
        i.agent,
        i.message,
        JSON.stringify(i.alert),
        i.runs,
        i.sent,
        i.lastRun,
        i.escalated ? 1 : 0,
        i.stopped,
      );
    },
    close(): void {
      if (db.isOpen) db.close();
    },
  };
}
