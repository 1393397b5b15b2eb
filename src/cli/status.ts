/** `flotilla status [--json]`: one row per agent from the running daemon, or from the config when none runs. */
import { connectDaemon } from "../api/client.ts";
import { readDaemonInfo } from "../api/daemon-files.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";
import { useColour } from "./colour.ts";
import { offlineStatus } from "./offline-status.ts";
import { selfCommand } from "./self-command.ts";
import { renderStatusTable, type StatusRow } from "./status-table.ts";
import { heartbeatLine, type OversightHeartbeat } from "./oversight-render.ts";
import { watchdogHeartbeat, watchdogLine } from "./watchdog-render.ts";

export const statusCommand: Command = {
  name: "status",
  summary: "Show every agent: state, pid, port, uptime, restarts, health, CPU, memory, last exit",
  usage: "flotilla status [-c FILE] [--json]",
  async run(input) {
    const { config } = loadForCli(input);
    const info = readDaemonInfo(config.stateDir);
    const now = Date.now();
    const watchdog = watchdogHeartbeat(config.stateDir, config.watchdog, now);
    const colour = useColour(process.stdout);
    if (info?.api) {
      const body = await connectDaemon(config.stateDir).get<{
        agents: StatusRow[];
        oversight?: OversightHeartbeat;
      }>("/v1/status");
      if (input.json) printJson({ daemon: { pid: info.pid, api: info.api }, ...body, watchdog });
      else {
        const lines = [renderStatusTable(body.agents, now, colour)];
        if (body.oversight) lines.push(heartbeatLine(body.oversight, now, colour));
        lines.push(watchdogLine(watchdog, now, colour));
        print(lines.join("\n"));
      }
      return 0;
    }
    const agents = offlineStatus(config);
    const orphaned = agents.filter((a) => a.state === "orphaned");
    const me = selfCommand();
    const note = info
      ? `the daemon (pid ${info.pid}) is starting: its API is not open yet`
      : orphaned.length > 0
        ? `no daemon runs, but ${orphaned.length} process(es) of a dead daemon do; "${me} up" stops them first, "${me} down" stops them`
        : `no daemon runs; "${me} up" starts the fleet`;
    if (input.json) printJson({ daemon: info ? { pid: info.pid, api: null } : null, agents, note, watchdog });
    else print(`${renderStatusTable(agents, now, colour)}\n${watchdogLine(watchdog, now, colour)}\n${note}`);
    return 0;
  },
};
