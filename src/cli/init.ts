/** `flotilla init [--demo] [--force]`: writes a commented starter config (or the demo fleet) without overwriting by accident. */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DEMO_KEY_FILE, DEMO_SIM_KEY, demoConfig, STARTER_CONSTITUTION } from "../config/templates.ts";
import { starterConfig } from "../config/starter-config.ts";
import { FlotillaError } from "../errors.ts";
import { type Command, print, printJson } from "./command.ts";
import { selfCommand } from "./self-command.ts";

/** Writes a config file unless one is there (or force); returns its path. */
export function writeConfig(file: string, text: string, force: boolean): string {
  const path = resolve(file);
  if (existsSync(path) && !force) {
    throw new FlotillaError(
      "FLOTILLA_E_CONFIG_EXISTS",
      `${path} already exists; edit it, or pass --force to replace it`,
    );
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

/** Writes the starter constitution next to the config; an existing one is kept unless force. Returns its path and whether it was written. */
export function writeConstitution(configPath: string, force: boolean): { path: string; written: boolean } {
  const path = join(dirname(configPath), "constitution.md");
  if (existsSync(path) && !force) return { path, written: false };
  writeFileSync(path, STARTER_CONSTITUTION, { mode: 0o644 });
  return { path, written: true };
}

/** Writes the starter fleet's config and the key file its simulator provider references. */
export function writeStarter(file: string, force: boolean): string {
  const path = writeConfig(file, starterConfig(), force);
  writeFileSync(join(dirname(path), DEMO_KEY_FILE), `${DEMO_SIM_KEY}\n`, { mode: 0o600 });
  return path;
}

/** Writes the demo fleet's config and, beside it, the key file its providers reference; returns the config's path. */
export function writeDemo(file: string, force: boolean): string {
  const path = writeConfig(file, demoConfig(), force);
  writeFileSync(join(dirname(path), DEMO_KEY_FILE), `${DEMO_SIM_KEY}\n`, { mode: 0o600 });
  return path;
}

export const initCommand: Command = {
  name: "init",
  summary: "Write a commented starter flotilla.yaml and constitution.md (--demo: the six-agent demo fleet)",
  usage: "flotilla init [--demo] [--force] [-c FILE]",
  options: { demo: { type: "boolean" }, force: { type: "boolean" } },
  async run(input) {
    const file = input.config ?? "flotilla.yaml";
    const force = input.values.force === true;
    const path = input.values.demo ? writeDemo(file, force) : writeStarter(file, force);
    const constitution = writeConstitution(path, force);
    if (input.json) printJson({ file: path, constitution: constitution.path });
    else
      print(
        `wrote ${path} and ${constitution.written ? "" : "kept the existing "}${constitution.path}; check the config with "${selfCommand()} validate", start with "${selfCommand()} up"`,
      );
    return 0;
  },
};
