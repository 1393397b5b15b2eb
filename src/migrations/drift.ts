/**
 * Drift detection: on a schedule, compares every file Flotilla manages with what it last wrote, and records
 * a `config.drift` event with a unified diff when one was changed (or deleted) behind its back.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Store } from "../ledger/store.ts";
import { lastWritten, managedPaths } from "../config/managed-files.ts";
import { unifiedDiff } from "./unified-diff.ts";

export interface DriftOptions {
  stateDir: string;
  store: Store;
  /** Check interval in ms. */
  every: number;
}

/** One file that differs from what Flotilla last wrote. */
export interface Drift {
  file: string;
  change: "edited" | "deleted";
  diff: string;
}

export function createDriftWatch(options: DriftOptions) {
  const { stateDir, store } = options;
  let every = options.every;
  let timer: NodeJS.Timeout | undefined;
  // What was last reported per file, so one edit raises one event, not one per interval.
  const reported = new Map<string, string | null>();

  function check(): Drift[] {
    const found: Drift[] = [];
    for (const file of managedPaths(stateDir)) {
      const expected = lastWritten(stateDir, file);
      if (expected === undefined) continue;
      let actual: string | null;
      try {
        actual = existsSync(file) ? readFileSync(file, "utf8") : null;
      } catch (err) {
        // unreadable (permissions changed, say): report it like any change, once
        actual = `(unreadable: ${(err as NodeJS.ErrnoException).code})`;
      }
      if (actual === expected) {
        reported.delete(file);
        continue;
      }
      if (reported.has(file) && reported.get(file) === actual) continue;
      reported.set(file, actual);
      const drift: Drift = {
        file,
        change: actual === null ? "deleted" : "edited",
        diff: unifiedDiff(expected, actual ?? "", { from: `${file} (as Flotilla wrote it)`, to: file }),
      };
      found.push(drift);
      store.append({ kind: "config.drift", data: { ...drift } });
    }
    return found;
  }

  function schedule(): void {
    timer = setTimeout(() => {
      try {
        check();
      } catch (err) {
        // the index or a copy under stateDir could not be read: say so, keep checking
        store.append({ kind: "config.drift_check_failed", data: { error: (err as Error).message } });
      }
      schedule();
    }, every);
    timer.unref();
  }

  return {
    /** Compares now; records and returns what drifted since the last report. */
    check,
    start(): void {
      if (!timer) schedule();
    },
    /** Changes the interval (a config apply may change drift.every). */
    setInterval(ms: number): void {
      every = ms;
      if (timer) {
        clearTimeout(timer);
        schedule();
      }
    },
    close(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

export type DriftWatch = ReturnType<typeof createDriftWatch>;
