/** The flotilla CLI entry: parse the command line, run one command, turn user errors into one clear line. */
import { parseArgs } from "node:util";
import { isFlotillaError } from "../errors.ts";
import { COMMON_OPTIONS, type Command, print } from "./command.ts";
import { COMMANDS } from "./commands.ts";
import { commandHelp, helpText, version } from "./help.ts";
import { didYouMean } from "../suggest.ts";

/** Our own one line for what node:util's parseArgs refuses, with a suggestion for a mistyped option. */
function parseProblem(command: Command, err: Error & { code?: string }): string {
  const options = { ...COMMON_OPTIONS, ...command.options };
  const flags = Object.entries(options).flatMap(([name, spec]) => [
    `--${name}`,
    ...(spec.short ? [`-${spec.short}`] : []),
  ]);
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? "";
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const given = quoted.split("=")[0] ?? quoted;
    return `unknown option ${given}${didYouMean(given, flags)}`;
  }
  if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const flag = /--[a-z-]+/.exec(quoted)?.[0] ?? quoted;
    return /does not take/.test(err.message)
      ? `option ${flag} takes no value`
      : `option ${flag} needs a value`;
  }
  return err.message;
}

function unknownCommand(name: string): number {
  const hint = didYouMean(
    name,
    COMMANDS.map((c) => c.name),
  );
  process.stderr.write(`flotilla: unknown command "${name}"${hint}; run "flotilla help" for the list\n`);
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V" || name === "version") {
    print(version());
    return 0;
  }
  if (!name || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic) {
      const command = COMMANDS.find((c) => c.name === topic);
      if (!command) return unknownCommand(topic);
      print(commandHelp(command));
      return 0;
    }
    print(helpText(COMMANDS));
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return unknownCommand(name);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...COMMON_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    process.stderr.write(
      `flotilla ${name}: ${parseProblem(command, err as Error)}; usage: ${command.usage}\n`,
    );
    return 2;
  }
  if (parsed.values.help) {
    print(commandHelp(command));
    return 0;
  }
  try {
    return await command.run({
      values: parsed.values as Record<string, string | boolean | string[] | undefined>,
      positionals: parsed.positionals,
      json: parsed.values.json === true,
      config: typeof parsed.values.config === "string" ? parsed.values.config : undefined,
    });
  } catch (err) {
    if (isFlotillaError(err)) {
      if (parsed.values.json === true) {
        process.stderr.write(`${JSON.stringify({ error: { code: err.code, message: err.message } })}\n`);
      } else {
        process.stderr.write(`flotilla ${name}: ${err.message}\n`);
      }
      return err.code === "FLOTILLA_E_USAGE" ? 2 : 1;
    }
    throw err;
  }
}
