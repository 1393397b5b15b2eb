/**
 * Recent events about a target, one compact line each: from the ledger opened read-only (the daemon may be
 * writing it, or dead with it locked or damaged), else from the append-only incident file beside it.
 */
import { join } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { Target } from "../types.ts";
import { readLogTail } from "./log-tail.ts";

const LIMITS = {
  /** Events kept. */
  events: 30,
  /** How long the read waits for a writer's lock (ms): a locked ledger sends us to the incident file. */
  busyMs: 1000,
  /** Characters of an event's data shown. */
  dataChars: 300,
  /** Lines of the incident file looked at (its end). */
  incidentLines: 500,
};

/** Which ledger events are about a target. A request the gateway served well is about nobody's failure. */
function filterFor(target: Target): { where: string; params: SQLInputValue[] } {
  const quiet = "NOT (kind = 'gateway.request' AND coalesce(json_extract(data, '$.status'), 0) < 400)";
  const about = ((): { where: string; params: SQLInputValue[] } => {
    switch (target.kind) {
      case "agent":
        return { where: "agent = ?", params: [target.name] };
      case "gateway":
        return { where: "(agent = 'gateway' OR kind LIKE 'gateway.%' OR kind LIKE 'key.%')", params: [] };
      case "provider":
        return { where: "json_extract(data, '$.provider') = ?", params: [target.name] };
      case "oversight":
        return {
          where: "(kind LIKE 'oversight.%' OR kind LIKE 'inject.%' OR kind LIKE 'alert.%')",
          params: [],
        };
      case "config":
        return { where: "kind LIKE 'config.%'", params: [] };
      case "daemon":
        return { where: "(kind LIKE 'daemon.%' OR agent IS NULL)", params: [] };
    }
  })();
  return { where: `${about.where} AND ${quiet}`, params: about.params };
}

function data(text: string): string {
  return text.length > LIMITS.dataChars ? `${text.slice(0, LIMITS.dataChars)}…` : text;
}

function ledgerLines(file: string, target: Target): string[] {
  const db = new DatabaseSync(file, { readOnly: true, timeout: LIMITS.busyMs });
  try {
    const { where, params } = filterFor(target);
    const rows = db
      .prepare(
        `SELECT ts, kind, agent, data FROM events WHERE ${where} ORDER BY id DESC LIMIT ${LIMITS.events}`,
      )
      .all(...params) as Array<{ ts: number; kind: string; agent: string | null; data: string }>;
    return rows
      .reverse()
      .map((e) => `${new Date(e.ts).toISOString()} ${e.kind}${e.agent ? ` ${e.agent}` : ""} ${data(e.data)}`);
  } finally {
    db.close();
  }
}

/** True when an incident-file entry is about the target (entries that name no target are kept). */
function aboutTarget(entry: Record<string, unknown>, target: Target): boolean {
  const named = entry.target;
  if (typeof named === "string") return named === target.id;
  if (named && typeof named === "object" && "id" in named) return named.id === target.id;
  return true;
}

function incidentLines(stateDir: string, target: Target): string[] {
  const file = join(stateDir, "incidents", "incidents.jsonl");
  const lines: string[] = [];
  for (const line of readLogTail(file, LIMITS.incidentLines).lines) {
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue; // a line cut by a crash mid-write
    }
    if (
      entry &&
      typeof entry === "object" &&
      !Array.isArray(entry) &&
      aboutTarget(entry as Record<string, unknown>, target)
    )
      lines.push(data(line));
  }
  return lines.slice(-LIMITS.events);
}

/** The last events about the target; when the ledger cannot be read, one line saying so, then the incident file's entries. */
export function recentEvents(stateDir: string, target: Target): string[] {
  try {
    return ledgerLines(join(stateDir, "ledger.db"), target);
  } catch (err) {
    const reason = (err as Error).message.split("\n")[0];
    const entries = incidentLines(stateDir, target);
    return [
      `ledger unreadable (${reason}): ${entries.length} entries from incidents/incidents.jsonl instead`,
      ...entries,
    ];
  }
}
