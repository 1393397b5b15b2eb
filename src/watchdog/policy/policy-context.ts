/**
 * The fix policy's view of one fleet, built from its loaded config and what its state dir holds now: the
 * agents a restart may name, Flotilla's units, the backups a restore may name, the operator's extras.
 */
import type { FlotillaConfig } from "../../config/schema.ts";
import { GATEWAY_AGENT } from "../../fleet/fleet-wiring.ts";
import { listBackups } from "../../migrations/backups.ts";
import { fleetUnitNames } from "../../systemd/units.ts";
import type { PolicyContext } from "./fix-policy.ts";

/** The policy context for `config` (paths already absolute, as loadConfig leaves them) and its file. */
export function policyContext(config: FlotillaConfig, configFile: string): PolicyContext {
  let backups: string[] = [];
  try {
    backups = listBackups(config.stateDir).map((b) => b.id);
  } catch {
    // an unreadable backups folder leaves only last-known-good to name
  }
  return {
    stateDir: config.stateDir,
    configFile,
    agents: [...config.agents.map((a) => a.name), ...(config.providers.length > 0 ? [GATEWAY_AGENT] : [])],
    units: fleetUnitNames(config.agents),
    backups: [...backups, "last-known-good"],
    extras: config.watchdog.extras.map((e) => ({ program: e.program, args: [...e.args] })),
    maxActions: config.watchdog.maxActions,
  };
}
