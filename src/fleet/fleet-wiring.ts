/**
 * How the gateway joins the fleet (computed by the CLI, which has the secrets at hand): the gateway (and the
 * provider simulator, when configured) as supervised processes of their own, and per agent the env that
 * sends its model traffic through the gateway.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadedConfig } from "../config/load.ts";
import type { AgentConfig } from "../config/schema.ts";
import { ensureStateDir } from "../api/daemon-files.ts";
import { ensureGatewaySecret, virtualKey } from "../gateway/virtual-keys.ts";

export const GATEWAY_AGENT = "gateway";
export const SIMULATOR_AGENT = "simulator";
const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));

/**
 * Node flags for the gateway process. At thousands of requests a second V8 grows the young generation
 * to 128 MB; 16 MB semi-spaces keep the gateway about 90 MB smaller at the same throughput.
 */
export const GATEWAY_NODE_FLAGS = ["--max-semi-space-size=16"];

export interface FleetWiring {
  internal: AgentConfig[];
  agentEnv: Record<string, Record<string, string>>;
}

/** The gateway's base URL as agents reach it. */
export function gatewayUrl(listen: string): string {
  return `http://${listen}`;
}

function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(":") + 1));
}

/** Supervision settings Flotilla's own processes share: always restarted, quickly. */
function internalProcess(
  name: string,
  command: string[],
  listen: string,
  stateDir: string,
  env: AgentConfig["env"],
): AgentConfig {
  return {
    name,
    role: name,
    command,
    port: portOf(listen),
    workspace: join(stateDir, name),
    env,
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
}

export function fleetWiring(loaded: LoadedConfig): FleetWiring {
  const { config, file } = loaded;
  const internal: AgentConfig[] = [];
  // The simulator (when configured) is a stand-in provider: it starts with the gateway, before any agent thinks.
  if (config.simulator) {
    internal.push(
      internalProcess(
        SIMULATOR_AGENT,
        [process.execPath, BIN, "sim", "--config", file],
        config.simulator.listen,
        config.stateDir,
        {},
      ),
    );
  }
  ensureStateDir(config.stateDir);
  ensureGatewaySecret(config.stateDir);
  // Every agent gets its key, gateway or not: it also signs the agent's reports to the daemon.
  const keys = new Map(config.agents.map((agent) => [agent.name, virtualKey(config.stateDir, agent.name)]));
  const keysOnly: FleetWiring["agentEnv"] = {};
  for (const [name, key] of keys) keysOnly[name] = { FLOTILLA_AGENT_KEY: key };
  if (config.providers.length === 0) return { internal, agentEnv: keysOnly };
  // Only the gateway gets the real provider keys: the env names its key references point at.
  const keyEnv: AgentConfig["env"] = {};
  for (const provider of config.providers) {
    const refs = [...provider.keys, ...(provider.auth?.clientSecret ? [provider.auth.clientSecret] : [])];
    for (const ref of refs) if ("env" in ref) keyEnv[ref.env] = { env: ref.env };
  }
  internal.push(
    internalProcess(
      GATEWAY_AGENT,
      [process.execPath, ...GATEWAY_NODE_FLAGS, BIN, "gateway", "--config", file],
      config.gateway.listen,
      config.stateDir,
      keyEnv,
    ),
  );
  const base = gatewayUrl(config.gateway.listen);
  const agentEnv: FleetWiring["agentEnv"] = {};
  for (const agent of config.agents) {
    const key = keys.get(agent.name) as string;
    agentEnv[agent.name] = {
      FLOTILLA_AGENT_KEY: key,
      FLOTILLA_GATEWAY_URL: base,
      OPENAI_BASE_URL: `${base}/v1`,
      OPENAI_API_KEY: key,
      ANTHROPIC_BASE_URL: base,
      ANTHROPIC_API_KEY: key,
      ...(agent.model ? { FLOTILLA_MODEL: agent.model } : {}),
    };
  }
  return { internal, agentEnv };
}
