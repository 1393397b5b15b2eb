/**
 * `flotilla logs [AGENT...] [-n 50] [-f] [--time]`: the last lines of one, several or (with no name) every
 * agent, interleaved with a name prefix; from the daemon's ring, or the log files when no daemon runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type ApiClient, connectDaemon } from "../api/client.ts";
import { readDaemonInfo } from "../api/daemon-files.ts";
import { FlotillaError } from "../errors.ts";
import type { LogLine } from "../supervisor/log-sink.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";
import { useColour } from "./colour.ts";
import { type AgentLine, mergeByTime, renderLine, type RenderOptions } from "./log-lines.ts";
import { didYouMean } from "../suggest.ts";
import { whenParentGone } from "./parent-watch.ts";

const USAGE = "flotilla logs [AGENT...] [-n 50] [-f] [--time] [-c FILE] [--json]";

function lineCount(value: string | boolean | string[] | undefined): number {
  const n = Number(value ?? 50);
  if (typeof value === "string" && /^\d+$/.test(value.trim())) return n;
  if (value === undefined) return 50;
  throw new FlotillaError(
    "FLOTILLA_E_USAGE",
    `-n takes a whole number of lines (0 or more), not "${String(value)}"; usage: ${USAGE}`,
  );
}

function fromFile(stateDir: string, agent: string, n: number): AgentLine[] {
  const file = join(stateDir, "logs", `${agent}.log`);
  if (n === 0 || !existsSync(file)) return [];
  const texts = readFileSync(file, "utf8").split("\n").slice(0, -1).slice(-n);
  return texts.map((text) => {
    const own = text.startsWith("[flotilla] ");
    return { agent, ts: 0, stream: own ? "flotilla" : "stdout", text: own ? text.slice(11) : text };
  });
}

async function follow(client: ApiClient, agents: string[], n: number, show: (line: AgentLine) => void) {
  const abort = new AbortController();
  const stop = () => abort.abort();
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, stop);
  // No follower left behind: one whose parent died (npx killed, a closed wrapper) stops too.
  const unwatch = whenParentGone(stop);
  try {
    await Promise.all(
      agents.map((agent) =>
        client.stream(
          `/v1/agents/${agent}/logs?n=${n}&follow=1`,
          (line) => show({ agent, ...(line as LogLine) }),
          abort.signal,
        ),
      ),
    );
  } finally {
    unwatch();
  }
}

export const logsCommand: Command = {
  name: "logs",
  summary: "Print agents' last log lines, every agent's interleaved when none is named (-f to follow)",
  usage: USAGE,
  options: {
    lines: { type: "string", short: "n" },
    follow: { type: "boolean", short: "f" },
    time: { type: "boolean", short: "t" },
  },
  async run(input) {
    const n = lineCount(input.values.lines);
    const { config } = loadForCli(input);
    const configured = config.agents.map((a) => a.name);
    const logFile = (agent: string) => join(config.stateDir, "logs", `${agent}.log`);
    const agents = input.positionals.length > 0 ? [...new Set(input.positionals)] : configured;
    for (const agent of agents) {
      // An agent no longer in the config (an apply removed it, or rolled its addition back) has its log file.
      if (configured.includes(agent) || existsSync(logFile(agent))) continue;
      throw new FlotillaError(
        "FLOTILLA_E_UNKNOWN_AGENT",
        `no agent named "${agent}"${didYouMean(agent, configured)}; agents: ${configured.join(", ") || "none"}`,
      );
    }
    const options: RenderOptions = {
      agents,
      prefix: agents.length > 1,
      time: input.values.time === true,
      colour: useColour(process.stdout),
    };
    const show = (line: AgentLine) => print(input.json ? JSON.stringify(line) : renderLine(line, options));
    const live = readDaemonInfo(config.stateDir)?.api ? connectDaemon(config.stateDir) : undefined;
    if (input.values.follow) {
      if (!live)
        throw new FlotillaError(
          "FLOTILLA_E_DAEMON_NOT_RUNNING",
          `no daemon runs, so there is nothing to follow; "flotilla logs" without -f prints the log files`,
        );
      await follow(live, agents, n, show);
      return 0;
    }
    const lists: AgentLine[][] = [];
    for (const agent of agents) {
      if (!live || !configured.includes(agent)) lists.push(fromFile(config.stateDir, agent, n));
      else {
        const { lines } = await live.get<{ lines: LogLine[] }>(`/v1/agents/${agent}/logs?n=${n}`);
        lists.push(lines.map((line) => ({ agent, ...line })));
      }
    }
    // File lines carry no time: they keep each agent's order, one agent after another.
    const merged = live ? mergeByTime(lists) : lists.flat();
    if (input.json) printJson({ lines: merged });
    else for (const line of merged) show(line);
    return 0;
  },
};
