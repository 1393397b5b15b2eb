/** `flotilla logs <agent> [-n 50] [-f]`: the last lines from the daemon's ring, or the log file when no daemon runs. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connectDaemon } from "../api/client.ts";
import { readDaemonInfo } from "../api/daemon-files.ts";
import { FlotillaError } from "../errors.ts";
import type { LogLine } from "../supervisor/log-sink.ts";
import { type Command, print, printJson } from "./command.ts";
import { agentNames, loadForCli } from "./load.ts";

const USAGE = "flotilla logs <agent> [-n 50] [-f] [-c FILE] [--json]";

function render(line: LogLine, json: boolean): string {
  if (json) return JSON.stringify(line);
  return line.stream === "flotilla" ? `[flotilla] ${line.text}` : line.text;
}

export const logsCommand: Command = {
  name: "logs",
  summary: "Print an agent's last log lines (-f to follow)",
  usage: USAGE,
  options: { lines: { type: "string", short: "n" }, follow: { type: "boolean", short: "f" } },
  async run(input) {
    const [name = ""] = agentNames(input, USAGE);
    const n = Number(input.values.lines ?? 50);
    if (!Number.isInteger(n) || n < 1)
      throw new FlotillaError("FLOTILLA_E_USAGE", `-n takes a whole number of lines; usage: ${USAGE}`);
    const { config } = loadForCli(input);
    const file = join(config.stateDir, "logs", `${name}.log`);
    const configured = config.agents.some((a) => a.name === name);
    if (!configured && !existsSync(file)) {
      const known = config.agents.map((a) => a.name).join(", ") || "none";
      throw new FlotillaError("FLOTILLA_E_UNKNOWN_AGENT", `no agent named "${name}" (agents: ${known})`);
    }
    // An agent no longer in the config (an apply removed it, or rolled its addition back) has its log file.
    if (!configured || !readDaemonInfo(config.stateDir)) {
      const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(0, -1).slice(-n) : [];
      if (input.json) printJson({ lines: lines.map((text) => ({ text })) });
      else if (lines.length > 0) print(lines.join("\n"));
      return 0;
    }
    const client = connectDaemon(config.stateDir);
    if (input.values.follow) {
      const abort = new AbortController();
      process.once("SIGINT", () => abort.abort());
      await client.stream(
        `/v1/agents/${name}/logs?n=${n}&follow=1`,
        (line) => print(render(line as LogLine, input.json)),
        abort.signal,
      );
      return 0;
    }
    const { lines } = await client.get<{ lines: LogLine[] }>(`/v1/agents/${name}/logs?n=${n}`);
    if (input.json) printJson({ lines });
    else if (lines.length > 0) print(lines.map((l) => render(l, false)).join("\n"));
    return 0;
  },
};
