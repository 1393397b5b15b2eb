/** `flotilla init [--demo] [--force]`: writes a commented starter config (or the demo fleet) without overwriting by accident. */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DEMO_KEY_FILE, DEMO_SIM_KEY, demoConfig, STARTER_CONFIG } from "../config/templates.ts";
import { FlotillaError } from "../errors.ts";
import { type Command, print, printJson } from "./command.ts";

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

/** Writes the demo fleet's config and, beside it, the key file its providers reference; returns the config's path. */
export function writeDemo(file: string, force: boolean): string {
  const path = writeConfig(file, demoConfig(), force);
  writeFileSync(join(dirname(path), DEMO_KEY_FILE), `${DEMO_SIM_KEY}\n`, { mode: 0o600 });
  return path;
}

export const initCommand: Command = {
  name: "init",
  summary: "Write a commented starter flotilla.yaml (--demo: the six-agent demo fleet)",
  usage: "flotilla init [--demo] [--force] [-c FILE]",
  options: { demo: { type: "boolean" }, force: { type: "boolean" } },
  async run(input) {
    const file = input.config ?? "flotilla.yaml";
    const force = input.values.force === true;
    const path = input.values.demo ? writeDemo(file, force) : writeConfig(file, STARTER_CONFIG, force);
    if (input.json) printJson({ file: path });
    else print(`wrote ${path}; check it with "flotilla validate", start with "flotilla up"`);
    return 0;
  },
};
