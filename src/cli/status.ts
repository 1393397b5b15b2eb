/** `flotilla status [--json]`: one row per agent from the running daemon. */
import { connectDaemon } from "../api/client.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";
import { renderStatusTable, type StatusRow } from "./status-table.ts";

export const statusCommand: Command = {
  name: "status",
  summary: "Show every agent: state, pid, port, uptime, restarts, health",
  usage: "flotilla status [-c FILE] [--json]",
  async run(input) {
    const { config } = loadForCli(input);
    const body = await connectDaemon(config.stateDir).get<{ agents: StatusRow[] }>("/v1/status");
    if (input.json) printJson(body);
    else print(renderStatusTable(body.agents));
    return 0;
  },
};
