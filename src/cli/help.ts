/** Help for people: the command list, and one command's usage, options and an example. */
import { readFileSync } from "node:fs";
import { COMMON_OPTIONS, type Command, type OptionSpec } from "./command.ts";

/** One example per command, shown by `flotilla help CMD` and `CMD --help`. */
const EXAMPLES: Record<string, string> = {
  up: "flotilla up --detach",
  down: "flotilla down",
  status: "flotilla status --json",
  describe: "flotilla describe coder",
  start: "flotilla start --all",
  stop: "flotilla stop coder reviewer",
  restart: "flotilla restart --all --yes",
  logs: "flotilla logs coder -n 100 -f",
  events: "flotilla events --agent coder --since 1h",
  init: "flotilla init",
  validate: "flotilla validate -c flotilla.yaml",
  schema: "flotilla schema > flotilla.schema.json",
  config: "flotilla config apply new.yaml --yes",
  backup: "flotilla backup",
  restore: "flotilla restore last-known-good --yes",
  systemd: "flotilla systemd generate --out units/",
  key: "flotilla key rotate coder",
  constitution: "flotilla constitution show",
  penalty: "flotilla penalty list --agent coder",
  incidents: "flotilla incidents --open",
  policy: 'flotilla policy preview coder "Fix the login bug"',
  gateway: "flotilla gateway --listen 127.0.0.1:4000",
  sim: "flotilla sim --listen 127.0.0.1:4100",
  "run-agent": "flotilla run-agent coder",
  demo: "flotilla demo",
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return `flotilla ${pkg.version} (node ${process.version})`;
}

export function helpText(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const rows = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: flotilla <command> [options]",
    "",
    "commands:",
    ...rows,
    "",
    'every command takes -c/--config FILE and --json; "flotilla help CMD" shows one; --version',
  ].join("\n");
}

function optionRows(options: OptionSpec): string[] {
  return Object.entries(options).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.type === "string" ? ` ${name === "config" ? "FILE" : "VALUE"}` : "";
    return `  ${short}--${name}${value}`;
  });
}

/** One command's usage, summary, options and example. */
export function commandHelp(command: Command): string {
  const example = EXAMPLES[command.name];
  return [
    `usage: ${command.usage}`,
    "",
    command.summary,
    "",
    "options:",
    ...optionRows({ ...command.options, ...COMMON_OPTIONS }),
    ...(example ? ["", "example:", `  ${example}`] : []),
  ].join("\n");
}
