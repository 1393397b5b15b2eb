/** Which agent's session gets critical findings: oversight.inject.agent, else the agent with role coordinator. */
import type { FlotillaConfig } from "../config/schema.ts";

export function injectTarget(config: FlotillaConfig): string | undefined {
  return config.oversight.inject.agent ?? config.agents.find((a) => a.role === "coordinator")?.name;
}
