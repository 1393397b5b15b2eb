/** The flotilla CLI entry: parse the command line, run one command, turn user errors into one clear line. */
import { parseArgs } from "node:util";
import { isFlotillaError } from "../errors.ts";
import { COMMON_OPTIONS, print } from "./command.ts";
import { COMMANDS } from "./commands.ts";

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: flotilla <command> [options]",
    "",
    "commands:",
    ...rows,
    "",
    "every command takes -c/--config FILE and --json",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    print(helpText());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`flotilla: unknown command "${name}"; run "flotilla help" for the list\n`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...COMMON_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`flotilla ${name}: ${(err as Error).message}; usage: ${command.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    print(`usage: ${command.usage}\n\n${command.summary}`);
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
