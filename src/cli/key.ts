/** `flotilla key <agent>`: prints the agent's virtual key for the gateway (what the supervisor injects as OPENAI_API_KEY). */
import { FlotillaError } from "../errors.ts";
import { gatewayUrl } from "../fleet/fleet-wiring.ts";
import { ensureGatewaySecret, virtualKey } from "../gateway/virtual-keys.ts";
import { ensureStateDir } from "../api/daemon-files.ts";
import { type Command, print, printJson } from "./command.ts";
import { agentNames, loadForCli } from "./load.ts";

const USAGE = "flotilla key <agent> [-c FILE] [--json]";

export const keyCommand: Command = {
  name: "key",
  summary: "Print an agent's virtual key for the gateway",
  usage: USAGE,
  async run(input) {
    const [name = ""] = agentNames(input, USAGE);
    const { config } = loadForCli(input);
    if (!config.agents.some((a) => a.name === name)) {
      const known = config.agents.map((a) => a.name).join(", ") || "none";
      throw new FlotillaError("FLOTILLA_E_UNKNOWN_AGENT", `no agent named "${name}" (agents: ${known})`);
    }
    ensureStateDir(config.stateDir);
    ensureGatewaySecret(config.stateDir);
    const key = virtualKey(config.stateDir, name);
    if (input.json) printJson({ agent: name, key, baseUrl: `${gatewayUrl(config.gateway.listen)}/v1` });
    else print(key);
    return 0;
  },
};
