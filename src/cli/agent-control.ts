/** `flotilla start|stop|restart <agent>...`: one control call per agent, through the daemon. */
import { connectDaemon } from "../api/client.ts";
import type { AgentStatus } from "../supervisor/agent-runner.ts";
import { type Command, print, printJson } from "./command.ts";
import { agentNames, loadForCli } from "./load.ts";
import { renderStatusTable } from "./status-table.ts";

function controlCommand(action: "start" | "stop" | "restart", summary: string): Command {
  const usage = `flotilla ${action} <agent>... [-c FILE] [--json]`;
  return {
    name: action,
    summary,
    usage,
    async run(input) {
      const names = agentNames(input, usage);
      const client = connectDaemon(loadForCli(input).config.stateDir);
      const agents: AgentStatus[] = [];
      for (const name of names)
        agents.push((await client.post<{ agent: AgentStatus }>(`/v1/agents/${name}/${action}`)).agent);
      if (input.json) printJson({ agents });
      else print(renderStatusTable(agents));
      return 0;
    },
  };
}

export const startCommand = controlCommand("start", "Start agents (a failed agent starts afresh)");
export const stopCommand = controlCommand(
  "stop",
  "Stop agents: SIGTERM to the group, SIGKILL after stopTimeout",
);
export const restartCommand = controlCommand("restart", "Stop and start agents");
