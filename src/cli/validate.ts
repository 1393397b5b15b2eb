/** `flotilla validate`: every problem as file:line: path: message, exit 1; or a one-line summary. */
import { readFileSync } from "node:fs";
import { findConfigFile, formatProblems, resolveConfig, validateConfigText } from "../config/load.ts";
import { plainSecretProblems } from "../config/plain-secrets.ts";
import { type Command, print, printJson } from "./command.ts";

export const validateCommand: Command = {
  name: "validate",
  summary: "Check flotilla.yaml and name every wrong field with its line",
  usage: "flotilla validate [-c FILE] [--json]",
  async run(input) {
    const file = findConfigFile(input.config);
    const text = readFileSync(file, "utf8");
    const checked = validateConfigText(text, file);
    // A secret's value in the text is a problem too (plain-secrets.ts), when this shell can resolve it.
    const plain = checked.ok
      ? plainSecretProblems(text, file, resolveConfig(checked.config, file).config, process.env)
      : [];
    const result = plain.length > 0 ? { ok: false as const, problems: plain } : checked;
    if (input.json) {
      printJson(
        result.ok
          ? { ok: true, file, agents: result.config.agents.length }
          : { ok: false, file, problems: result.problems },
      );
      return result.ok ? 0 : 1;
    }
    if (!result.ok) {
      process.stderr.write(`${formatProblems(result.problems)}\n`);
      return 1;
    }
    print(`${file}: ok (${result.config.agents.length} agents)`);
    return 0;
  },
};
