/**
 * Status when no daemon answers: each configured agent is `down`, unless a process a dead daemon started
 * for it still runs (`orphaned`, with its pid); processes carrying the fleet's mark but no known name too.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { FlotillaConfig } from "../config/schema.ts";
import { descendants, findByEnv, isAlive } from "../supervisor/process-tree.ts";
import type { RunRecord } from "../supervisor/run-registry.ts";
import { instanceId } from "../supervisor/supervisor.ts";
import type { StatusRow } from "./status-table.ts";

function records(stateDir: string): RunRecord[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(stateDir, "run", "agents.json"), "utf8"));
    return Array.isArray(parsed) ? (parsed as RunRecord[]) : [];
  } catch {
    return [];
  }
}

function row(name: string, state: StatusRow["state"], pid: number | null, port: number | null): StatusRow {
  return { name, state, pid, port, uptimeSec: null, restarts: 0, health: { ok: null, latencyMs: null } };
}

/** Rows for the configured agents and for whatever a dead daemon left running. */
export function offlineStatus(config: FlotillaConfig): StatusRow[] {
  const alive = records(config.stateDir).filter((r) => isAlive(r.pid, r.startTime));
  const rows = config.agents.map((agent) => {
    const left = alive.find((r) => r.name === agent.name);
    return row(agent.name, left ? "orphaned" : "down", left?.pid ?? null, agent.port ?? null);
  });
  for (const r of alive)
    if (!config.agents.some((a) => a.name === r.name)) rows.push(row(r.name, "orphaned", r.pid, null));
  // Processes with the fleet's mark that no record names (an agent's children, the gateway's workers).
  const known = new Set(alive.flatMap((r) => [r.pid, ...descendants(r.pid).map((d) => d.pid)]));
  const strays = findByEnv({ FLOTILLA_INSTANCE: instanceId(config.stateDir) }).filter(
    (p) => !known.has(p.pid) && p.pid !== process.pid,
  );
  for (const p of strays) rows.push(row("(stray)", "orphaned", p.pid, null));
  return rows;
}
