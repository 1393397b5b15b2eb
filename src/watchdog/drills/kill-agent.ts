/**
 * kill-agent: SIGKILL an agent's process tree. Only for an agent whose restart policy is "never", so the
 * supervisor leaves it failed and only the watchdog can heal it.
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
  return agent.restart.policy === "never"
    ? undefined
    : `its restart.policy is "${agent.restart.policy}", so the supervisor would heal it, not the watchdog; set agents.${agent.name}.restart.policy to never (restart: { policy: never }) for the drill`;
}

export const killAgent: Drill = {
  name: "kill-agent",
  summary: "SIGKILL an agent whose restart policy is never: only the watchdog can bring it back",
  escalations: 0,
  async prepare(ctx) {
    await requireDaemon(ctx);
    const agent = chooseAgent(ctx, "kill-agent", fits);
    const pid = await runningPid(ctx, agent.name);
    const proc = processIdentity(pid);
    return {
      inject: async () => {
        const at = Date.now();
        signalAgent(proc, "SIGKILL");
        ctx.note(`killed agent ${agent.name} (pid ${pid}) with SIGKILL`);
        return {
          target: { kind: "agent", id: `agent:${agent.name}`, name: agent.name },
          at,
          healthy: () => agentHealthy(ctx, agent),
          async cleanup() {
            // Leave the fleet as found: start the agent the watchdog did not bring back.
            if (await agentHealthy(ctx, agent)) return;
            await ctx
              .api()
              .post(`/v1/agents/${agent.name}/start`)
              .catch(() => undefined);
            ctx.note(`started agent ${agent.name} again`);
          },
        };
      },
    };
  },
};
