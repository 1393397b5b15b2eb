/**
 * stop-oversight: freeze the oversight pass (POST /v1/oversight/freeze: runs stop finishing, as if the pass
 * were SIGSTOPped, while the daemon stays up). Recovered when the heartbeat is fresh again: the watchdog
 * sees it go stale, alerts, and restarts the pass (POST /v1/oversight/restart).
 */
import { FlotillaError } from "../../errors.ts";
import type { Drill, DrillContext } from "./drill.ts";
import { requireDaemon } from "./fleet-access.ts";

interface Heartbeat {
  lastRun: { finished?: number } | null;
  stale: boolean;
}

async function heartbeatAfter(ctx: DrillContext, at: number): Promise<boolean> {
  try {
    const beat = await ctx.api().get<Heartbeat>("/v1/oversight/status");
    return !beat.stale && (beat.lastRun?.finished ?? 0) > at;
  } catch {
    return false;
  }
}

export const stopOversight: Drill = {
  name: "stop-oversight",
  summary: "freeze the oversight pass: the watchdog must see the stale heartbeat and restart the pass",
  escalations: 0,
  async prepare(ctx) {
    if (!ctx.config.oversight.enabled)
      throw new FlotillaError(
        "FLOTILLA_E_DRILL_REFUSED",
        "stop-oversight: oversight.enabled is false, so there is no pass to stop; enable it first",
      );
    const { client } = await requireDaemon(ctx);
    return {
      inject: async () => {
        const at = Date.now();
        await client.post("/v1/oversight/freeze");
        ctx.note("froze the oversight pass (POST /v1/oversight/freeze)");
        return {
          target: { kind: "oversight", id: "oversight", name: "oversight" },
          at,
          healthy: () => heartbeatAfter(ctx, at),
          async cleanup() {
            if (await heartbeatAfter(ctx, at)) return;
            await ctx
              .api()
              .post("/v1/oversight/restart")
              .then(() => ctx.note("restarted the oversight pass (POST /v1/oversight/restart)"))
              .catch(() =>
                ctx.note('could not restart the oversight pass; run "flotilla oversight restart"'),
              );
          },
        };
      },
    };
  },
};
