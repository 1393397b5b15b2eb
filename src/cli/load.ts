/** The config every CLI command starts from: -c, then FLOTILLA_CONFIG, then ./flotilla.yaml. */
import { findConfigFile, type LoadedConfig, loadConfig } from "../config/load.ts";
import { FlotillaError } from "../errors.ts";
import type { CommandInput } from "./command.ts";

export function loadForCli(input: CommandInput): LoadedConfig {
  return loadConfig(findConfigFile(input.config));
}

/** Agent names from the positionals; a usage error when there are none. */
export function agentNames(input: CommandInput, usage: string): string[] {
  if (input.positionals.length === 0) {
    throw new FlotillaError("FLOTILLA_E_USAGE", `name at least one agent; usage: ${usage}`);
  }
  return input.positionals;
}
