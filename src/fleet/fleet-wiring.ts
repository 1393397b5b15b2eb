/**
 * How the gateway joins the fleet (computed by the CLI, which has the secrets at hand): the gateway (and the
 * provider simulator, when configured) as supervised processes of their own, and per agent the env that
 * sends its model traffic through the gateway.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JUDGE_IDENTITY } from "../config/cross-field.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { AgentConfig, FlotillaConfig } from "../config/schema.ts";
import { providerSecretNames, secretEnvNames } from "../config/secrets.ts";
import { ensureStateDir } from "../api/daemon-files.ts";
import { FlotillaError } from "../errors.ts";
import { ensureGatewaySecret, keyEntry } from "../gateway/virtual-keys.ts";

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
  /** Per agent, what sends its model traffic through the gateway (URLs; the key is added at each start). */
  agentEnv: Record<string, Record<string, string>>;
  /**
   * Values of the variables the config's { env } secret references name, read by the CLI: the daemon runs
   * without them in its environment, hands the providers' to the gateway on its stdin and the agents' to
   * the agents they belong to.
   */
  secrets?: Record<string, string>;
  /** The proxy settings of the CLI's environment, for the gateway only (on its stdin, like the secrets). */
  proxy?: Record<string, string>;
}

/** The gateway's base URL as agents reach it. */
export function gatewayUrl(listen: string): string {
  return `http://${listen}`;
}

function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(":") + 1));
}

/** The health settings of Flotilla's own processes (the gateway, the simulator); the watchdog honours the same grace. */
export const INTERNAL_HEALTH = {
  http: "/healthz",
  grace: 30_000,
  interval: 2_000,
  timeout: 2_000,
  failures: 3,
} as const;

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
    health: { ...INTERNAL_HEALTH },
    stopTimeout: 5_000,
    limits: {},
    autostart: true,
  };
}

/** The env that carries an agent's virtual key: FLOTILLA_AGENT_KEY, and the SDKs' key variables behind a gateway unless the agent's env sets them. */
export function agentKeyEnv(config: FlotillaConfig, agent: AgentConfig, key: string): Record<string, string> {
  const env: Record<string, string> = { FLOTILLA_AGENT_KEY: key };
  if (config.providers.length === 0) return env;
  for (const name of ["OPENAI_API_KEY", "ANTHROPIC_API_KEY"]) if (!(name in agent.env)) env[name] = key;
  return env;
}

/** Proxy settings the gateway honours (undici's EnvHttpProxyAgent); proxy URLs may carry credentials. */
const PROXY_NAMES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];

/**
 * What the gateway reads on its stdin: the values of the providers' { env } references, and the proxy
 * settings of the environment the fleet was started in (for the gateway only: agents do not get them).
 */
export function gatewayInput(config: FlotillaConfig, wiring: FleetWiring): string {
  const secrets = wiring.secrets ?? {};
  const env: Record<string, string> = {};
  for (const name of providerSecretNames(config)) if (secrets[name] !== undefined) env[name] = secrets[name];
  return JSON.stringify({ env, proxy: wiring.proxy ?? {} });
}

/**
 * The environment for the daemon: the CLI's own less every variable a secret reference names and the
 * proxy settings (both reach the gateway on its stdin instead).
 */
export function daemonEnv(config: FlotillaConfig, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const clean = { ...env };
  for (const name of [...secretEnvNames(config), ...PROXY_NAMES]) delete clean[name];
  return clean;
}

/** Refuses inheritEnv names that a provider's key reference also names: agents would get the real key. */
function checkInheritEnv(config: FlotillaConfig): void {
  const real = new Set(providerSecretNames(config));
  const leaked = config.inheritEnv.filter((name) => real.has(name));
  if (leaked.length > 0)
    throw new FlotillaError(
      "FLOTILLA_E_CONFIG_INVALID",
      `inheritEnv: ${leaked.join(", ")} also holds a provider key; agents would get the real key, so remove it from inheritEnv`,
    );
}

export function fleetWiring(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): FleetWiring {
  const { config, file } = loaded;
  checkInheritEnv(config);
  const secrets: Record<string, string> = {};
  for (const name of secretEnvNames(config)) if (env[name] !== undefined) secrets[name] = env[name];
  const proxy: Record<string, string> = {};
  for (const name of PROXY_NAMES) if (env[name]) proxy[name] = env[name];
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
  // Every agent has a key, gateway or not (it also signs the agent's reports to the daemon): issue version 1 now.
  for (const agent of config.agents) keyEntry(config.stateDir, agent.name);
  if (config.oversight.model) keyEntry(config.stateDir, JUDGE_IDENTITY);
  if (config.providers.length === 0) return { internal, agentEnv: {}, secrets, proxy };
  // The gateway's secrets reach it on its stdin (--secrets-stdin), never through its environment.
  internal.push(
    internalProcess(
      GATEWAY_AGENT,
      [process.execPath, ...GATEWAY_NODE_FLAGS, BIN, "gateway", "--config", file, "--secrets-stdin"],
      config.gateway.listen,
      config.stateDir,
      // A private CA's file (not a secret): Node reads it only from the environment it starts with.
      env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: env.NODE_EXTRA_CA_CERTS } : {},
    ),
  );
  const base = gatewayUrl(config.gateway.listen);
  const agentEnv: FleetWiring["agentEnv"] = {};
  for (const agent of config.agents) {
    agentEnv[agent.name] = {
      FLOTILLA_GATEWAY_URL: base,
      OPENAI_BASE_URL: `${base}/v1`,
      ANTHROPIC_BASE_URL: base,
      ...(agent.model ? { FLOTILLA_MODEL: agent.model } : {}),
    };
  }
  return { internal, agentEnv, secrets, proxy };
}
