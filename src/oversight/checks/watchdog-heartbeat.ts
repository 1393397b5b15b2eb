/**
 * Who watches the watchdog: oversight reports a watchdog whose last run is older than two of its intervals
 * (or that never ran while the daemon has been up that long), as the watchdog reports a stale oversight.
 */
import { formatDuration } from "../../config/units.ts";
import { readWatchdogHeartbeat } from "../../watchdog/state-store.ts";
import type { Check, CheckContext } from "../check.ts";
import type { FindingDraft } from "../finding.ts";

const NAME = "watchdog-heartbeat";

/** When this process started (ms since the epoch): a watchdog cannot be late before the daemon was up. */
const STARTED_AT = Date.now() - Math.round(process.uptime() * 1000);

export function createWatchdogHeartbeatCheck(startedAt = STARTED_AT): Check {
  return {
    name: NAME,
    run(context: CheckContext): FindingDraft[] {
      const { watchdog, stateDir } = context.config;
      if (!watchdog.enabled) return [];
      const limit = 2 * watchdog.every;
      const last = readWatchdogHeartbeat(stateDir);
      const since = last?.finishedAt ?? startedAt;
      if (context.now - since <= limit) return [];
      const evidence = last
        ? `the watchdog's last run finished ${formatDuration(context.now - last.finishedAt)} ago (${new Date(last.finishedAt).toISOString()}), more than two intervals (${formatDuration(limit)})`
        : `no watchdog run recorded in ${formatDuration(context.now - startedAt)} of daemon uptime (two intervals: ${formatDuration(limit)})`;
      return [
        {
          check: NAME,
          severity: "critical",
          agent: null,
          article: null,
          evidence,
          suggestion: watchdog.embedded
            ? 'Start it again ("flotilla down" then "flotilla up", or "flotilla watchdog" in a terminal); <stateDir>/watchdog.log says why it stopped.'
            : 'Check its timer: "systemctl --user status flotilla-watchdog.timer flotilla-watchdog.service".',
          key: "stale",
        },
      ];
    },
  };
}
