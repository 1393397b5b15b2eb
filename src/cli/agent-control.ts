/**
 * `flotilla start|stop|restart <agent>...|--all`: one control call per agent, through the daemon. Verbs that
 * stop agents name the ones they will touch with --all and ask first on a terminal (--yes skips the question).
 */
import { connectDaemon } from "../api/client.ts";
import { FlotillaError } from "../errors.ts";
import type { AgentStatus } from "../supervisor/agent-runner.ts";
import { type Command, type CommandInput, print, printJson } from "./command.ts";
import { canAsk, confirm } from "./confirm.ts";
import { loadForCli } from "./load.ts";
import { renderStatusTable } from "./status-table.ts";

type Action = "start" | "stop" | "restart";

function targets(input: CommandInput, configured: string[], usage: string): string[] {
  const all = input.values.all === true;
  if (all && input.positionals.length > 0)
    throw new FlotillaError("FLOTILLA_E_USAGE", `name agents or give --all, not both; usage: ${usage}`);
  if (all) return configured;
  if (input.positionals.length === 0)
    throw new FlotillaError("FLOTILLA_E_USAGE", `name at least one agent, or --all; usage: ${usage}`);
  // Named agents go to the daemon as given: it knows Flotilla's own processes (the gateway) too.
  return input.positionals;
}

function controlCommand(action: Action, summary: string): Command {
  const usage = `flotilla ${action} <agent>...|--all${action === "start" ? "" : " [--yes]"} [-c FILE] [--json]`;
  return {
    name: action,
    summary,
    usage,
    options: { all: { type: "boolean" }, yes: { type: "boolean", short: "y" } },
    async run(input) {
      const { config } = loadForCli(input);
      const names = targets(
        input,
        config.agents.map((a) => a.name),
        usage,
      );
      const client = connectDaemon(config.stateDir);
      if (input.values.all === true && action !== "start" && !input.json) {
        print(`will ${action}: ${names.join(", ")}`);
        if (
          input.values.yes !== true &&
          canAsk(input.json) &&
          !(await confirm(`${action} these ${names.length} agents? [y/N] `))
        ) {
          print(`nothing was done`);
          return 0;
        }
      }
      const agents: AgentStatus[] = [];
      for (const name of names)
        agents.push((await client.post<{ agent: AgentStatus }>(`/v1/agents/${name}/${action}`)).agent);
      if (input.json) printJson({ agents });
      else print(renderStatusTable(agents));
      return 0;
    },
  };
}

export const startCommand = controlCommand("start", "Start agents, or --all (a failed agent starts afresh)");
export const stopCommand = controlCommand(
  "stop",
  "Stop agents, or --all: SIGTERM to the group, SIGKILL after stopTimeout",
);
export const restartCommand = controlCommand("restart", "Stop and start agents, or --all");
