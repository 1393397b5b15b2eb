/** What the watchdog watches in a fleet: the daemon, the gateway, each agent, oversight, the live config, each provider. */
import type { FlotillaConfig } from "../config/schema.ts";
import type { Target } from "./types.ts";

/** Every target of this config, in the order the watchdog probes them (the daemon first: it decides the rest). */
export function watchTargets(config: FlotillaConfig): Target[] {
  const gateway = config.providers.length > 0;
  return [
    { kind: "daemon", id: "daemon", name: "daemon" },
    ...(gateway ? [{ kind: "gateway", id: "gateway", name: "gateway" } as const] : []),
    ...config.agents.map((a) => ({ kind: "agent", id: `agent:${a.name}`, name: a.name }) as const),
    ...(config.oversight.enabled ? [{ kind: "oversight", id: "oversight", name: "oversight" } as const] : []),
    { kind: "config", id: "config", name: "config" },
    ...(gateway
      ? config.providers.map((p) => ({ kind: "provider", id: `provider:${p.id}`, name: p.id }) as const)
      : []),
  ];
}
