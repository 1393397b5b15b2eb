/**
 * How the gateway joins the fleet (computed by the CLI, which has the secrets at hand): the gateway as a
 * supervised process of its own, and per agent the env that sends its model traffic through it.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadedConfig } from "../config/load.ts";
import type { AgentConfig } from "../config/schema.ts";
import { ensureStateDir } from "../api/daemon-files.ts";
import { ensureGatewaySecret, virtualKey } from "./virtual-keys.ts";

export const GATEWAY_AGENT = "gateway";
const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));

export interface FleetWiring {
  internal: AgentConfig[];
  agentEnv: Record<string, Record<string, string>>;
}

/** The gateway's base URL as agents reach it. */
export function gatewayUrl(listen: string): string {
  return `http://${listen}`;
}

export function fleetWiring(loaded: LoadedConfig): FleetWiring {
  const { config, file } = loaded;
  ensureStateDir(config.stateDir);
  ensureGatewaySecret(config.stateDir);
  // Every agent gets its key, gateway or not: it also signs the agent's reports to the daemon.
  const keysOnly: FleetWiring["agentEnv"] = {};
  for (const agent of config.agents)
    keysOnly[agent.name] = { FLOTILLA_AGENT_KEY: virtualKey(config.stateDir, agent.name) };
  if (config.providers.length === 0) return { internal: [], agentEnv: keysOnly };
  const port = Number(config.gateway.listen.slice(config.gateway.listen.lastIndexOf(":") + 1));
  // Only the gateway gets the real provider keys: the env names its key references point at.
  const keyEnv: AgentConfig["env"] = {};
  for (const provider of config.providers) {
    for (const key of provider.keys) if ("env" in key) keyEnv[key.env] = { env: key.env };
  }
  const gateway: AgentConfig = {
    name: GATEWAY_AGENT,
    role: "gateway",
    command: [process.execPath, BIN, "gateway", "--config", file],
    port,
    workspace: join(config.stateDir, "gateway"),
    env: keyEnv,
    restart: {
      policy: "always",
      delay: 500,
      maxDelay: 10_000,
      burst: { count: 10, windowMs: 60_000 },
      resetAfter: 30_000,
    },
    health: { http: "/healthz", grace: 30_000, interval: 2_000, timeout: 2_000, failures: 3 },
    stopTimeout: 5_000,
    limits: {},
    autostart: true,
  };
  const base = gatewayUrl(config.gateway.listen);
  const agentEnv: FleetWiring["agentEnv"] = {};
  for (const agent of config.agents) {
    const key = virtualKey(config.stateDir, agent.name);
    agentEnv[agent.name] = {
      ...keysOnly[agent.name],
      FLOTILLA_GATEWAY_URL: base,
      OPENAI_BASE_URL: `${base}/v1`,
      OPENAI_API_KEY: key,
      ANTHROPIC_BASE_URL: base,
      ANTHROPIC_API_KEY: key,
      ...(agent.model ? { FLOTILLA_MODEL: agent.model } : {}),
    };
  }
  return { internal: [gateway], agentEnv };
}
