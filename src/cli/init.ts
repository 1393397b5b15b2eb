/** `flotilla init [--demo] [--force]`: writes a commented starter config (or the demo fleet) without overwriting by accident. */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { demoConfig, STARTER_CONFIG } from "../config/templates.ts";
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

export const initCommand: Command = {
  name: "init",
  summary: "Write a commented starter flotilla.yaml (--demo: the six-agent demo fleet)",
  usage: "flotilla init [--demo] [--force] [-c FILE]",
  options: { demo: { type: "boolean" }, force: { type: "boolean" } },
  async run(input) {
    const file = input.config ?? "flotilla.yaml";
    const path = writeConfig(
      file,
      input.values.demo ? demoConfig() : STARTER_CONFIG,
      input.values.force === true,
    );
    if (input.json) printJson({ file: path });
    else print(`wrote ${path}; check it with "flotilla validate", start with "flotilla up"`);
    return 0;
  },
};
