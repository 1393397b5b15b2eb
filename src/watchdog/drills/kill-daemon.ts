/**
 * kill-daemon: kill -9 the daemon. Recovered when a new daemon answers and every autostart agent runs and
 * answers its health probe. Nothing to undo on a timeout: the drill says to run `flotilla up`.
 */
import { readDaemonInfo } from "../../api/daemon-files.ts";
import type { AgentStatus } from "../../supervisor/agent-runner.ts";
import { probeHealth } from "../../supervisor/health-probe.ts";
import { signal } from "../../supervisor/process-tree.ts";
import type { Drill } from "./drill.ts";
import { requireDaemon } from "./fleet-access.ts";

export const killDaemon: Drill = {
  name: "kill-daemon",
  summary: "kill -9 the daemon: the watchdog must start a new one with every autostart agent healthy",
  escalations: 0,
  async prepare(ctx) {
    const { config } = ctx;
    const { client } = await requireDaemon(ctx);
    const old = client.info;
    return {
      inject: async () => {
        const at = Date.now();
        signal(old.pid, "SIGKILL");
        ctx.note(`killed the daemon (pid ${old.pid}) with SIGKILL`);
        const autostart = config.agents.filter((a) => a.autostart);
        return {
          target: { kind: "daemon", id: "daemon", name: "daemon" },
          at,
          async healthy() {
            const info = readDaemonInfo(config.stateDir);
            if (!info?.api || info.pid === old.pid) return false;
            let agents: AgentStatus[];
            try {
              ({ agents } = await ctx.api().get<{ agents: AgentStatus[] }>("/v1/status"));
            } catch {
              return false;
            }
            for (const agent of autostart) {
              if (agents.find((a) => a.name === agent.name)?.state !== "running") return false;
              if (!(await probeHealth(agent)).ok) return false;
            }
            return true;
          },
          async cleanup() {
            if (!readDaemonInfo(config.stateDir))
              ctx.note(`no daemon runs: start the fleet again with "flotilla up"`);
          },
        };
      },
    };
  },
};
