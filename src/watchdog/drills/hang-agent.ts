/**
 * hang-agent: SIGSTOP an agent's process tree: alive, not answering. Needs an HTTP or TCP health probe
 * (a process probe cannot tell a stopped process from a working one). The recovery restarts it; the
 * supervisor kills a stopped process with SIGKILL after stopTimeout.
 */
import { signalAgent } from "./fleet-access.ts";
import { signalDrill } from "./signal-drill.ts";

export const hangAgent = signalDrill({
  name: "hang-agent",
  summary: "SIGSTOP an agent (alive, not answering): the watchdog must restart it",
  signal: "SIGSTOP",
  fits: (agent) =>
    "process" in agent.health || agent.port === undefined
      ? `a stopped process still counts as alive under a process probe; give agents.${agent.name} a port and health: { http: /health } or { tcp: true }`
      : undefined,
  async cleanup(_ctx, _agent, proc) {
    // The stopped process may still be there (not yet restarted): let it run again.
    signalAgent(proc, "SIGCONT");
  },
});
