/**
 * How `flotilla logs` prints lines: with several agents, each line gets its agent's name as a prefix (in
 * its own colour on a terminal, none with NO_COLOR or a pipe); `--time` adds the time; merged by time.
 */
import type { LogLine } from "../supervisor/log-sink.ts";

/** A line and the agent it came from; `ts` is 0 for a line read from a log file (which holds no time). */
export interface AgentLine extends LogLine {
  agent: string;
}

const COLOURS = [36, 33, 35, 32, 34, 31]; // cyan, yellow, magenta, green, blue, red

export interface RenderOptions {
  /** Every agent shown, in order (their colours and the prefix width follow it). */
  agents: string[];
  /** Prefix each line with its agent's name (several agents). */
  prefix: boolean;
  time: boolean;
  colour: boolean;
}

export function renderLine(line: AgentLine, options: RenderOptions): string {
  const text = line.stream === "flotilla" ? `[flotilla] ${line.text}` : line.text;
  const parts: string[] = [];
  if (options.time)
    parts.push(line.ts > 0 ? new Date(line.ts).toISOString().replace("T", " ").slice(0, 23) : "-".padEnd(23));
  if (options.prefix) {
    const width = Math.max(...options.agents.map((a) => a.length));
    const label = `${line.agent.padEnd(width)} |`;
    const colour = COLOURS[Math.max(0, options.agents.indexOf(line.agent)) % COLOURS.length];
    parts.push(options.colour ? `\x1b[${colour}m${label}\x1b[0m` : label);
  }
  parts.push(text);
  return parts.join(" ");
}

/** Lines of several agents merged by time (stable: lines of one agent keep their order). */
export function mergeByTime(lists: AgentLine[][]): AgentLine[] {
  return lists.flat().sort((a, b) => a.ts - b.ts);
}
