/** Renders the fleet status as an aligned table for people. */

import { formatDuration } from "../config/units.ts";
import type { AgentStatus } from "../supervisor/agent-runner.ts";

export type StatusRow = Pick<
  AgentStatus,
  "name" | "state" | "pid" | "port" | "uptimeSec" | "restarts" | "health"
> & {
  /** In strict mode (its next tasks must carry proof); shown next to the state. */
  strict?: boolean;
  /** How the agent is confined ("sandbox", "user NAME (uid N)", "none", "flotilla" for Flotilla's own). */
  isolation?: string;
};

/** The isolation cell: an unisolated agent says so plainly. */
function isolationCell(isolation: string | undefined): string {
  if (isolation === undefined) return "-";
  return isolation === "none" ? "NONE (not isolated)" : isolation;
}

export function renderStatusTable(agents: StatusRow[]): string {
  const header = ["AGENT", "STATE", "PID", "PORT", "UPTIME", "RESTARTS", "HEALTH", "ISOLATION"];
  const rows = agents.map((a) => [
    a.name,
    a.strict ? `${a.state} STRICT` : a.state,
    a.pid === null ? "-" : String(a.pid),
    a.port === null ? "-" : String(a.port),
    a.uptimeSec === null ? "-" : formatDuration(a.uptimeSec * 1000),
    String(a.restarts),
    a.health.ok === null
      ? "-"
      : a.health.ok
        ? `ok ${a.health.latencyMs}ms`
        : `FAIL${a.health.error ? ` (${a.health.error})` : ""}`,
    isolationCell(a.isolation),
  ]);
  if (rows.length === 0) return "no agents configured";
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
