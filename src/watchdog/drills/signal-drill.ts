/**
 * The shape kill-agent and hang-agent share: pick an agent the drill fits, signal its process tree, and
 * watch it until the agent works again; each drill says which signal and how to leave the fleet as found.
 */
import type { AgentConfig } from "../../config/schema.ts";
import type { Drill, DrillContext, DrillName } from "./drill.ts";
import {
  agentHealthy,
  chooseAgent,
  processIdentity,
  requireDaemon,
  runningPid,
  signalAgent,
} from "./fleet-access.ts";

export interface SignalDrillSpec {
  name: DrillName;
  summary: string;
  signal: NodeJS.Signals;
  /** Why this agent cannot take the drill (naming the field to change), or undefined. */
  fits(agent: AgentConfig): string | undefined;
  /** Undoes the drill when it ends early; safe to call twice. */
  cleanup(ctx: DrillContext, agent: AgentConfig, proc: { pid: number; startTime: number }): Promise<void>;
}

export function signalDrill(spec: SignalDrillSpec): Drill {
  return {
    name: spec.name,
    summary: spec.summary,
    escalations: 0,
    async prepare(ctx) {
      await requireDaemon(ctx);
      const agent = chooseAgent(ctx, spec.name, spec.fits);
      const pid = await runningPid(ctx, agent.name);
      const proc = processIdentity(pid);
      return {
        inject: async () => {
          const at = Date.now();
          signalAgent(proc, spec.signal);
          ctx.note(`sent ${spec.signal} to agent ${agent.name} (pid ${pid})`);
          return {
            target: { kind: "agent", id: `agent:${agent.name}`, name: agent.name },
            at,
            healthy: () => agentHealthy(ctx, agent),
            cleanup: () => spec.cleanup(ctx, agent, proc),
          };
        },
      };
    },
  };
}
