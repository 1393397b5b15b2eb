/**
 * Watches the watcher: on its own timer, raises a critical `oversight-stalled` finding through notify
 * when no oversight run has finished within two intervals (a pass that hangs or keeps failing).
 */
import type { Finding, FindingDraft } from "./finding.ts";
import type { FindingsStore } from "./findings-store.ts";
import { STALLED_CHECK } from "./runner.ts";

export interface StallWatchOptions {
  store: FindingsStore;
  /** The current interval (oversight.every, ms); the watch fires when no run finished in twice this. */
  every: () => number;
  enabled: () => boolean;
  notify?: (open: Finding[]) => Promise<unknown>;
  /** When the watch started (ms since the epoch): the first run is due within two intervals of it. */
  since: number;
  now?: () => number;
}

export function createStallWatch(options: StallWatchOptions) {
  const now = options.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  /** Reports the stall when there is one; returns the finding, or undefined when runs are on time. */
  async function check(): Promise<Finding | undefined> {
    if (!options.enabled()) return undefined;
    const every = options.every();
    const last = options.store.lastRun();
    // A run of an earlier daemon counts from this daemon's start: the first run here is due within two intervals.
    const lastAt = Math.max(last?.finished ?? 0, options.since);
    const late = now() - lastAt;
    if (late <= 2 * every) return undefined;
    const draft: FindingDraft = {
      check: STALLED_CHECK,
      severity: "critical",
      agent: null,
      article: null,
      evidence: last
        ? `the last oversight run (#${last.id}) finished ${Math.round(late / 1000)}s ago; runs are due every ${Math.round(every / 1000)}s`
        : `no oversight run has finished in the ${Math.round(late / 1000)}s since the daemon started; runs are due every ${Math.round(every / 1000)}s`,
      suggestion:
        'Look at the daemon log and "flotilla events --kind oversight" for the failing or hanging pass; run "flotilla oversight run" to see it fail.',
      key: "stalled",
    };
    // Run 0: not a run of the pass, so the next finished run resolves it.
    const [finding] = options.store.report(0, now(), [draft], () => null);
    if (finding && options.notify) await options.notify([finding]).catch(() => undefined);
    return finding;
  }

  return {
    check,
    start(): void {
      const tick = () => {
        void check().finally(() => {
          if (closed) return;
          timer = setTimeout(tick, options.every());
          timer.unref();
        });
      };
      timer = setTimeout(tick, options.every());
      timer.unref();
    },
    close(): void {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
