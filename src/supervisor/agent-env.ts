/** Builds an agent's environment: what its config gives it, a short list of non-secret basics, and Flotilla's own variables. */

import type { AgentConfig } from "../config/schema.ts";
import { isSecretRef, resolveSecret } from "../config/secrets.ts";
import { operatorPath } from "./agent-path.ts";

/** Marks every agent process carries, so strays can be found after a daemon death. */
export function agentMarks(instance: string, agent: AgentConfig): Record<string, string> {
  return { FLOTILLA_INSTANCE: instance, FLOTILLA_AGENT_NAME: agent.name };
}

/** The full env for a spawn. The daemon's own environment (and any provider key in it) never leaks, except inheritEnv names. */
export function buildAgentEnv(
  agent: AgentConfig,
  instance: string,
  inherit: readonly string[],
  daemonEnv: NodeJS.ProcessEnv = process.env,
  injected: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of inherit) {
    const value = name === "PATH" ? operatorPath(daemonEnv.PATH) : daemonEnv[name];
    if (value !== undefined) env[name] = value;
  }
  // What Flotilla injects (the gateway's URLs and the agent's virtual key); the agent's own env may override it.
  Object.assign(env, injected);
  for (const [name, value] of Object.entries(agent.env)) {
    env[name] = isSecretRef(value)
      ? resolveSecret(value, `agents.${agent.name}.env.${name}`, daemonEnv)
      : value;
  }
  if (agent.port !== undefined) env.PORT = String(agent.port);
  env.FLOTILLA_WORKSPACE = agent.workspace;
  Object.assign(env, agentMarks(instance, agent));
  return env;
}
