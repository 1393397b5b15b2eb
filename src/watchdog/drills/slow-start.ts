/**
 * slow-start: restart an agent and SIGSTOP it as soon as it spawns, SIGCONT after --delay: it is healthy
 * only after the delay, still inside its health.grace. A watchdog that honours the grace does nothing:
 * pass means 0 kills and 0 watchdog actions on it.
 */
import type { AgentConfig } from "../../config/schema.ts";
import { formatDuration } from "../../config/units.ts";
import type { AgentStatus } from "../../supervisor/agent-runner.ts";
import type { Drill } from "./drill.ts";
import {
  agentHealthy,
  agentStatus,
  chooseAgent,
  processIdentity,
  requireDaemon,
  runningPid,
  signalAgent,
} from "./fleet-access.ts";

export const slowStart: Drill = {
  name: "slow-start",
  summary:
    "an agent that becomes healthy only after --delay, inside its grace: must cause 0 kills and 0 actions",
  escalations: 0,
  noActions: true,
  async prepare(ctx) {
    const delay = ctx.options.delayMs;
    const fits = (agent: AgentConfig): string | undefined => {
      if ("process" in agent.health || agent.port === undefined)
        return `a stopped process still counts as alive under a process probe; give agents.${agent.name} a port and health: { http: /health } or { tcp: true }`;
      if (agent.health.grace <= delay)
        return `agents.${agent.name}.health.grace (${formatDuration(agent.health.grace)}) must be longer than --delay (${formatDuration(delay)}), or a correct watchdog would act; raise the grace or shorten --delay`;
      return undefined;
    };
    await requireDaemon(ctx);
    const agent = chooseAgent(ctx, "slow-start", fits);
    await runningPid(ctx, agent.name);
    return {
      inject: async () => {
        const at = Date.now();
        const { agent: started } = await ctx
          .api()
          .post<{ agent: AgentStatus }>(`/v1/agents/${agent.name}/restart`);
        if (started.pid === null)
          throw new Error(`agent ${agent.name} did not start again after the restart`);
        const proc = processIdentity(started.pid);
        signalAgent(proc, "SIGSTOP");
        ctx.note(
          `restarted agent ${agent.name} and stopped it (pid ${proc.pid}) for ${formatDuration(delay)}`,
        );
        let continued = false;
        const resume = () => {
          if (continued) return;
          continued = true;
          signalAgent(proc, "SIGCONT");
        };
        return {
          target: { kind: "agent", id: `agent:${agent.name}`, name: agent.name },
          at,
          healthy: async () => continued && (await agentHealthy(ctx, agent)),
          async step(progress) {
            if (!continued && progress.now - at >= delay) {
              resume();
              ctx.note(`let agent ${agent.name} run again (SIGCONT)`);
            }
          },
          done: (progress) => continued && progress.healthy,
          async verdict(progress) {
            const reasons: string[] = [];
            const now = await agentStatus(ctx, agent.name);
            const kills = (now?.restarts ?? started.restarts) - started.restarts;
            if (kills > 0 || (now?.pid ?? proc.pid) !== proc.pid)
              reasons.push(
                `agent ${agent.name} was killed or restarted during its grace (${Math.max(kills, 1)} times)`,
              );
            if (!progress.watchdogRuns.some((run) => run < at + delay))
              reasons.push(
                `no watchdog run saw the stopped agent; make --delay longer than watchdog.every (${formatDuration(ctx.config.watchdog.every)})`,
              );
            return reasons;
          },
          async cleanup() {
            resume();
          },
        };
      },
    };
  },
};
