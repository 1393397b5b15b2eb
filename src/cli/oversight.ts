/** `flotilla oversight SUBCOMMAND`: on this branch only `eval`; the runner's branch adds run, findings and ack. */
import { FlotillaError } from "../errors.ts";
import type { Command } from "./command.ts";
import { OVERSIGHT_EVAL_OPTIONS, OVERSIGHT_EVAL_USAGE, oversightEval } from "./oversight-eval.ts";

export const oversightCommand: Command = {
  name: "oversight",
  summary: "Oversight: measure the judge against a labelled set (eval)",
  usage: OVERSIGHT_EVAL_USAGE,
  options: OVERSIGHT_EVAL_OPTIONS,
  async run(input) {
    const [sub, ...positionals] = input.positionals;
    if (sub === "eval") return oversightEval({ ...input, positionals });
    throw new FlotillaError(
      "FLOTILLA_E_USAGE",
      `unknown oversight subcommand "${sub ?? ""}"; usage: ${OVERSIGHT_EVAL_USAGE}`,
    );
  },
};
