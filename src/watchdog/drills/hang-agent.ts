/**
 * hang-agent: SIGSTOP an agent's process tree: alive, not answering. Needs an HTTP or TCP health probe
 * (a process probe cannot tell a stopped process from a working one). The recovery restarts it; the
 * supervisor kills a stopped process with SIGKILL after stopTimeout.
 */
import type { AgentConfig } from "../../config/schema.ts";
import type { Drill } from "./drill.ts";
import {
  agentHealthy,
  chooseAgent,
  processIdentity,
  requireDaemon,
  runningPid,
  signalAgent,
} from "./fleet-access.ts";

function fits(agent: AgentConfig): string | undefined {
  if ("process" in agent.health || agent.port === undefined)
    return `a stopped process still counts as alive under a process probe; give agents.${agent.name} a port and health: { http: /health } or { tcp: true }`;
  return undefined;
}

export const hangAgent: Drill = {
  name: "hang-agent",
  summary: "SIGSTOP an agent (alive, not answering): the watchdog must restart it",
  escalations: 0,
  async prepare(ctx) {
    await requireDaemon(ctx);
    const agent = chooseAgent(ctx, "hang-agent", fits);
    const pid = await runningPid(ctx, agent.name);
    const proc = processIdentity(pid);
    return {
      inject: async () => {
        const at = Date.now();
        signalAgent(proc, "SIGSTOP");
        ctx.note(`stopped agent ${agent.name} (pid ${pid}) with SIGSTOP`);
        return {
          target: { kind: "agent", id: `agent:${agent.name}`, name: agent.name },
          at,
          healthy: () => agentHealthy(ctx, agent),
          async cleanup() {
            // The stopped process may still be there (not yet restarted): let it run again.
            signalAgent(proc, "SIGCONT");
          },
        };
      },
    };
  },
};
