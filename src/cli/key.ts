/**
 * `flotilla key`: an agent's virtual key for the gateway (`key NAME` or `key show NAME`), every agent's key
 * version (`key list`), and revocation (`key rotate NAME`: through the daemon when it runs, so the gateway
 * refuses the old key at once and the agent restarts with the new one; else for the next start).
 */
import { connectDaemon } from "../api/client.ts";
import { ensureStateDir, readDaemonInfo } from "../api/daemon-files.ts";
import type { FlotillaConfig } from "../config/schema.ts";
import { FlotillaError } from "../errors.ts";
import { gatewayUrl } from "../fleet/fleet-wiring.ts";
import {
  ensureGatewaySecret,
  keyEntry,
  readKeyRegistry,
  rotateKey,
  virtualKey,
} from "../gateway/virtual-keys.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";

const USAGE = "flotilla key <agent> | key show <agent> | key list | key rotate <agent> [-c FILE] [--json]";

function knownAgent(config: FlotillaConfig, name: string | undefined): string {
  if (name && config.agents.some((a) => a.name === name)) return name;
  const known = config.agents.map((a) => a.name).join(", ") || "none";
  if (!name) throw new FlotillaError("FLOTILLA_E_USAGE", `name an agent (agents: ${known}); usage: ${USAGE}`);
  throw new FlotillaError("FLOTILLA_E_UNKNOWN_AGENT", `no agent named "${name}" (agents: ${known})`);
}

interface Rotated {
  agent: string;
  version: number;
  issuedAt: string;
  restarted: boolean;
}

async function rotate(
  config: FlotillaConfig,
  agent: string,
): Promise<Rotated & { applied: "now" | "next start" }> {
  if (readDaemonInfo(config.stateDir)?.api) {
    const rotated = await connectDaemon(config.stateDir).post<Rotated>(`/v1/agents/${agent}/key/rotate`);
    return { ...rotated, applied: "now" };
  }
  const entry = rotateKey(config.stateDir, agent);
  return { agent, ...entry, restarted: false, applied: "next start" };
}

export const keyCommand: Command = {
  name: "key",
  summary: "Show an agent's virtual key, list key versions, or rotate (revoke) a key",
  usage: USAGE,
  async run(input) {
    const { config } = loadForCli(input);
    ensureStateDir(config.stateDir);
    ensureGatewaySecret(config.stateDir);
    const [first, second] = input.positionals;
    if (first === "list") {
      const registry = readKeyRegistry(config.stateDir);
      const keys = config.agents.map((a) => ({
        agent: a.name,
        ...(registry[a.name] ?? keyEntry(config.stateDir, a.name)),
      }));
      if (input.json) printJson({ keys });
      else
        print(
          [
            "AGENT        VERSION  ISSUED",
            ...keys.map((k) => `${k.agent.padEnd(12)} ${String(k.version).padEnd(8)} ${k.issuedAt}`),
          ].join("\n"),
        );
      return 0;
    }
    if (first === "rotate") {
      const rotated = await rotate(config, knownAgent(config, second));
      if (input.json) printJson(rotated);
      else
        print(
          rotated.applied === "now"
            ? `${rotated.agent}: key version ${rotated.version} issued; the old key is refused${rotated.restarted ? " and the agent restarted with the new one" : ""}`
            : `${rotated.agent}: key version ${rotated.version} issued; no daemon runs, so the agent gets it at its next start`,
        );
      return 0;
    }
    const name = knownAgent(config, first === "show" ? second : first);
    const key = virtualKey(config.stateDir, name);
    if (input.json)
      printJson({
        agent: name,
        key,
        version: keyEntry(config.stateDir, name).version,
        baseUrl: `${gatewayUrl(config.gateway.listen)}/v1`,
      });
    else print(key);
    return 0;
  },
};
