/**
 * Delivers alerts through the durable queue: per channel, findings below its minSeverity are skipped and a
 * finding already sent within its throttle is held back (counted, and told with the next alert). Each
 * delivery has a deadline; a failed one is retried with exponential backoff until it is delivered, across
 * restarts; past maxQueued the oldest alert is dropped, and the drop is recorded.
 */
import type { AlertChannelConfig } from "../config/schema.ts";
import type { Store } from "../ledger/store.ts";
import { SEVERITIES, type Severity } from "../oversight/finding.ts";
import type { Alert } from "./alert.ts";
import type { AlertStore, QueuedAlert } from "./alert-store.ts";
import type { SendAlert } from "./channels/channel.ts";

/** Retry and queue defaults, in one place. */
export const DISPATCH_DEFAULTS = {
  /** Wait before the first retry (ms); it doubles with each failed attempt. */
  retryBaseMs: 5_000,
  /** Longest wait between two attempts (ms). */
  retryMaxMs: 15 * 60_000,
  /** Alerts queued across all channels; past it the oldest is dropped and the drop recorded. */
  maxQueued: 1_000,
  /** Alerts one pass attempts. */
  batch: 100,
} as const;

export type DispatchSettings = { -readonly [K in keyof typeof DISPATCH_DEFAULTS]: number };

export type Offer = "queued" | "throttled" | "below-severity";

export interface DispatcherOptions {
  store: AlertStore;
  ledger: Pick<Store, "append">;
  /** The channels of the running config, by id. */
  channels: () => ReadonlyMap<string, AlertChannelConfig>;
  /** The sender of a channel (built from its config at each pass: a config apply may change it). */
  sender: (channel: AlertChannelConfig) => SendAlert;
  now?: () => number;
  settings?: Partial<DispatchSettings>;
}

const rank = (severity: Severity) => SEVERITIES.indexOf(severity);

/** Wait before attempt number `attempts + 1` after `attempts` failures. */
export function backoffMs(attempts: number, settings: Pick<DispatchSettings, "retryBaseMs" | "retryMaxMs">) {
  return Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.max(0, attempts - 1));
}

export function createDispatcher(options: DispatcherOptions) {
  const { store, ledger } = options;
  const now = options.now ?? Date.now;
  const settings: DispatchSettings = { ...DISPATCH_DEFAULTS, ...options.settings };
  const closing = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<PumpReport> | undefined;
  let again = false;
  /** The last pass took a whole batch: more may be due. */
  let full = false;

  function record(kind: string, item: { channel: string; alert: Alert }, data: Record<string, unknown> = {}) {
    const { finding } = item.alert;
    ledger.append({
      kind,
      ...(finding.agent ? { agent: finding.agent } : {}),
      data: { channel: item.channel, finding: finding.id, check: finding.check, ...data },
    });
  }

  /** Queues an alert for a channel as is (no severity or throttle: escalations), dropping the oldest when full. */
  function enqueue(channel: string, alert: Alert): void {
    while (store.count() >= settings.maxQueued) {
      const oldest = store.oldest();
      if (!oldest) break;
      store.remove(oldest.id);
      record("alert.dropped", oldest, { reason: `the queue is full (${settings.maxQueued} alerts)` });
    }
    const id = store.enqueue(channel, alert, now());
    record("alert.queued", { channel, alert }, { queueId: id, severity: alert.finding.severity });
  }

  /** Offers a finding's alert to a channel: skipped below its severity, held back within its throttle. */
  function offer(channel: AlertChannelConfig, alert: Alert): Offer {
    if (rank(alert.finding.severity) < rank(channel.minSeverity)) return "below-severity";
    const last = store.throttle(channel.id, alert.finding.id);
    const at = now();
    if (last && at - last.lastAt < channel.throttle) {
      store.setThrottle(channel.id, alert.finding.id, last.lastAt, last.held + 1);
      return "throttled";
    }
    store.setThrottle(channel.id, alert.finding.id, at, 0);
    enqueue(channel.id, { ...alert, repeats: last?.held ?? 0 });
    return "queued";
  }

  async function attempt(item: QueuedAlert, channel: AlertChannelConfig): Promise<boolean> {
    try {
      await options.sender(channel)(item.alert, closing.signal);
      store.remove(item.id);
      record("alert.delivered", item, { attempts: item.attempts + 1 });
      return true;
    } catch (err) {
      if (closing.signal.aborted) return false;
      const attempts = item.attempts + 1;
      const wait = backoffMs(attempts, settings);
      // FLOTILLA_E_DELIVERY and FLOTILLA_E_SECRET messages name the channel and the reference, never a value.
      const error = (err as Error).message;
      // The channel's other alerts wait with it: its receiver is likely down for all of them.
      store.postponeChannel(item.channel, now() + wait);
      store.retryAt(item.id, now() + wait, error);
      record("alert.failed", item, { attempt: attempts, error, retryInMs: wait });
      return false;
    }
  }

  /** One pass over the due alerts: channels in parallel, each channel's alerts in order. */
  async function pass(): Promise<PumpReport> {
    const report: PumpReport = { delivered: 0, failed: 0 };
    const channels = options.channels();
    for (const gone of store.queuedChannels().filter((id) => !channels.has(id)))
      for (const item of store.ofChannel(gone)) {
        store.remove(item.id);
        record("alert.dropped", item, { reason: "the channel is no longer in the config" });
      }
    const byChannel = new Map<string, QueuedAlert[]>();
    const due = store.due(now(), settings.batch);
    for (const item of due) byChannel.set(item.channel, [...(byChannel.get(item.channel) ?? []), item]);
    full = due.length === settings.batch;
    await Promise.all(
      [...byChannel].map(async ([id, items]) => {
        const channel = channels.get(id);
        for (const item of items) {
          if (closing.signal.aborted || !channel) return;
          if (await attempt(item, channel)) report.delivered++;
          else {
            report.failed++;
            return;
          }
        }
      }),
    );
    return report;
  }

  function schedule(): void {
    clearTimeout(timer);
    timer = undefined;
    const at = store.nextDueAt();
    if (at === undefined || closing.signal.aborted) return;
    timer = setTimeout(() => void pump(), Math.max(0, at - now())).unref();
  }

  /** Attempts every due alert; concurrent callers share a pass, and a call during one gets another after it. */
  function pump(): Promise<PumpReport> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      const total: PumpReport = { delivered: 0, failed: 0 };
      let more: boolean;
      do {
        again = false;
        const report = await pass();
        total.delivered += report.delivered;
        total.failed += report.failed;
        // A whole batch went through: what else is due goes now, not at the next timer.
        more = again || (full && report.failed === 0);
      } while (more && !closing.signal.aborted);
      return total;
    })().finally(() => {
      running = undefined;
      schedule();
    });
    return running;
  }

  return {
    offer,
    enqueue,
    pump,
    /** Picks up what an earlier daemon left queued (a channel no longer configured drops its alerts now). */
    start: (): void => {
      if (store.count() > 0) void pump();
    },
    async close(): Promise<void> {
      closing.abort();
      clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}

export interface PumpReport {
  delivered: number;
  failed: number;
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
