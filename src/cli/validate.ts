/** `flotilla validate`: every problem as file:line: path: message, exit 1; or a one-line summary. */
import { readFileSync } from "node:fs";
import { findConfigFile, formatProblems, validateConfigText } from "../config/load.ts";
import { type Command, print, printJson } from "./command.ts";

export const validateCommand: Command = {
  name: "validate",
  summary: "Check flotilla.yaml and name every wrong field with its line",
  usage: "flotilla validate [-c FILE] [--json]",
  async run(input) {
    const file = findConfigFile(input.config);
    const result = validateConfigText(readFileSync(file, "utf8"), file);
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
