/**
 * kill-agent: SIGKILL an agent's process tree. Only for an agent whose restart policy is "never", so the
 * supervisor leaves it failed and only the watchdog can heal it.
 */
import { agentHealthy } from "./fleet-access.ts";
import { signalDrill } from "./signal-drill.ts";

export const killAgent = signalDrill({
  name: "kill-agent",
  summary: "SIGKILL an agent whose restart policy is never: only the watchdog can bring it back",
  signal: "SIGKILL",
  fits: (agent) =>
    agent.restart.policy === "never"
      ? undefined
      : `its restart.policy is "${agent.restart.policy}", so the supervisor would heal it, not the watchdog; set agents.${agent.name}.restart.policy to never (restart: { policy: never }) for the drill`,
  async cleanup(ctx, agent) {
    // Leave the fleet as found: start the agent the watchdog did not bring back.
    if (await agentHealthy(ctx, agent)) return;
    await ctx
      .api()
      .post(`/v1/agents/${agent.name}/start`)
      .catch(() => undefined);
    ctx.note(`started agent ${agent.name} again`);
  },
});
