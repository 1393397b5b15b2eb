/** Renders the fleet status as an aligned table for people. */

import { formatDuration } from "../config/units.ts";
import type { AgentStatus } from "../supervisor/agent-runner.ts";
import type { Usage } from "../supervisor/resource-usage.ts";

export type StatusRow = Pick<AgentStatus, "name" | "pid" | "port" | "uptimeSec" | "restarts" | "health"> & {
  /** The runner's state, or "down" (no daemon runs) or "orphaned" (a dead daemon's agent still runs). */
  state: AgentStatus["state"] | "down" | "orphaned";
  /** In strict mode (its next tasks must carry proof); shown next to the state. */
  strict?: boolean;
  /** How the agent is confined ("sandbox", "user NAME (uid N)", "none", "flotilla" for Flotilla's own). */
  isolation?: string;
  lastExit?: AgentStatus["lastExit"];
  /** In backoff: when the next start is due (epoch ms). */
  retryAt?: number | null;
  /** CPU and memory of its process tree, while it has one. */
  usage?: Usage | null;
};

/** The isolation cell: an unisolated agent says so plainly. */
function isolationCell(isolation: string | undefined): string {
  if (isolation === undefined) return "-";
  return isolation === "none" ? "NONE (not isolated)" : isolation;
}

function stateCell(a: StatusRow, now: number): string {
  const retry =
    a.state === "backoff" && typeof a.retryAt === "number"
      ? ` (retry in ${formatDuration(Math.max(0, Math.ceil((a.retryAt - now) / 1000)) * 1000)})`
      : "";
  return `${a.state}${retry}${a.strict ? " STRICT" : ""}`;
}

function healthCell(health: StatusRow["health"]): string {
  if (health.ok === null) return "-";
  return health.ok ? `ok ${health.latencyMs}ms` : `FAIL${health.error ? ` (${health.error})` : ""}`;
}

/** Bytes as people read them: 512K, 48.2M, 1.3G. */
function memoryCell(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)}K`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)}M`;
  return `${(bytes / 1024 ** 3).toFixed(1)}G`;
}

/** The last exit: its code or signal, and how long ago. */
export function lastExitCell(exit: StatusRow["lastExit"], now: number): string {
  if (!exit) return "-";
  const how = exit.signal ? exit.signal : `code ${exit.code}`;
  return `${how}, ${formatDuration(Math.max(0, Math.floor((now - exit.at) / 1000)) * 1000)} ago`;
}

/** ANSI colour of a state on a terminal: green runs, yellow waits, red needs the operator, dim is off. */
const STATE_COLOURS: Record<string, number> = {
  running: 32,
  starting: 36,
  stopping: 36,
  backoff: 33,
  failed: 31,
  orphaned: 31,
  stopped: 2,
  down: 2,
};

/** The table; with `colour`, each state cell is coloured (after padding, so columns stay aligned). */
export function renderStatusTable(agents: StatusRow[], now = Date.now(), colour = false): string {
  const header = [
    "AGENT",
    "STATE",
    "PID",
    "PORT",
    "UPTIME",
    "RESTARTS",
    "HEALTH",
    "CPU",
    "MEM",
    "LAST EXIT",
    "ISOLATION",
  ];
  const rows = agents.map((a) => [
    a.name,
    stateCell(a, now),
    a.pid === null ? "-" : String(a.pid),
    a.port === null ? "-" : String(a.port),
    a.uptimeSec === null ? "-" : formatDuration(a.uptimeSec * 1000),
    String(a.restarts),
    healthCell(a.health),
    a.usage ? `${a.usage.cpuPercent.toFixed(1)}%` : "-",
    a.usage ? memoryCell(a.usage.memoryBytes) : "-",
    lastExitCell(a.lastExit, now),
    isolationCell(a.isolation),
  ]);
  if (rows.length === 0) return "no agents configured";
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const paint = (cell: string, row: number, column: number): string => {
    const code = STATE_COLOURS[agents[row - 1]?.state ?? ""];
    return colour && column === 1 && row > 0 && code !== undefined ? `\x1b[${code}m${cell}\x1b[0m` : cell;
  };
  return [header, ...rows]
    .map((r, row) =>
      r
        .map((cell, i) => paint(cell.padEnd(widths[i] ?? 0), row, i))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
