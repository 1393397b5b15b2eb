/**
 * Where incidents go: <stateDir>/incidents/<id>.md (rewritten atomically at each step), one JSON line per
 * write to incidents/incidents.jsonl (append-only: the record that survives a locked or damaged ledger), and
 * incident.opened / .resolved / .escalated ledger events, which the coordinator's startup brief reads.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../ledger/sqlite-store.ts";
import type { Store } from "../ledger/store.ts";
import type { Incident, Target } from "./types.ts";

export { renderIncident } from "./incident-render.ts";
import { renderIncident } from "./incident-render.ts";

/** "20261207T2250" in UTC. */
function stamp(at: number): string {
  const iso = new Date(at).toISOString();
  return `${iso.slice(0, 10).replaceAll("-", "")}T${iso.slice(11, 16).replace(":", "")}`;
}

/**
 * An incident id such as "inc-20261207T2250-agent-coder" (UTC minute, target id). `taken` says which ids exist
 * already; a collision gets "-2", "-3", … appended.
 */
export function incidentId(target: Target, at: number, taken: (id: string) => boolean = () => false): string {
  const slug = target.id
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  const base = `inc-${stamp(at)}-${slug || target.kind}`;
  let id = base;
  for (let n = 2; taken(id); n++) id = `${base}-${n}`;
  return id;
}

export const INCIDENTS_DIR = "incidents";
export const INCIDENTS_LOG = "incidents.jsonl";

/** One line of incidents.jsonl: the incident as written, and when. */
export interface IncidentLogEntry {
  ts: number;
  incident: Incident;
}

/** The entries of incidents.jsonl, oldest first; unreadable lines are skipped. */
export function readIncidentLog(stateDir: string): IncidentLogEntry[] {
  let text: string;
  try {
    text = readFileSync(join(stateDir, INCIDENTS_DIR, INCIDENTS_LOG), "utf8");
  } catch {
    return [];
  }
  const entries: IncidentLogEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as IncidentLogEntry);
    } catch {
      // A line cut by a crash mid-append: the next lines still count.
    }
  }
  return entries;
}

const resolved = (i: Incident | undefined) =>
  i !== undefined && (i.outcome === "recovered" || i.acknowledgedAt !== undefined);
const escalated = (i: Incident | undefined) => i?.escalatedAt !== undefined;

/** "agent:coder down: failed (exit signal SIGKILL)": the target and the state the watchdog saw last. */
function incidentTitle(incident: Incident): string {
  const last = incident.seen.at(-1);
  return `${incident.target.id} ${last?.state ?? "down"}${last?.detail ? `: ${last.detail}` : ""}`;
}

interface EventSink {
  append(e: { kind: string; agent?: string; data: Record<string, unknown> }): void;
}

/**
 * Writes the incident's files and, given a store, its ledger events: incident.opened on its first write,
 * incident.resolved when it is recovered or acknowledged, incident.escalated when it escalates (each once).
 * Never throws: what could not be written is named in `failed` ("<id>.md", "incidents.jsonl", "ledger").
 */
export function writeIncident(
  stateDir: string,
  incident: Incident,
  store?: EventSink,
): { wrote: string[]; failed: string[] } {
  const wrote: string[] = [];
  const failed: string[] = [];
  const dir = join(stateDir, INCIDENTS_DIR);
  const md = join(dir, `${incident.id}.md`);
  const before = readIncidentLog(stateDir).findLast((e) => e.incident.id === incident.id)?.incident;
  const first = before === undefined && !existsSync(md);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    // Each write below fails on its own and is reported.
  }
  const tmp = `${md}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, renderIncident(incident), { mode: 0o600 });
    renameSync(tmp, md);
    wrote.push(md);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // incidents/ is not a folder: there is no temp file either.
    }
    failed.push(md);
  }
  const log = join(dir, INCIDENTS_LOG);
  try {
    const entry: IncidentLogEntry = { ts: Date.now(), incident };
    appendFileSync(log, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    wrote.push(log);
  } catch {
    failed.push(log);
  }
  if (store) {
    const agent = incident.target.kind === "agent" ? { agent: incident.target.name } : {};
    try {
      if (first)
        store.append({
          kind: "incident.opened",
          ...agent,
          data: { id: incident.id, title: incidentTitle(incident) },
        });
      if (escalated(incident) && !escalated(before))
        store.append({ kind: "incident.escalated", ...agent, data: { id: incident.id } });
      if (resolved(incident) && !resolved(before))
        store.append({
          kind: "incident.resolved",
          ...agent,
          data: {
            id: incident.id,
            outcome:
              incident.acknowledgedAt !== undefined && incident.outcome !== "recovered"
                ? "acknowledged"
                : incident.outcome,
          },
        });
      wrote.push("ledger");
    } catch {
      failed.push("ledger");
    }
  }
  return { wrote, failed };
}

/** How long the ledger may stay locked by another writer before the incident goes to the files only (ms). */
const LOCK_WAIT_MS = 1000;

/**
 * The ledger at <stateDir>/ledger.db for incident events, or undefined (never a throw) when it is locked past
 * LOCK_WAIT_MS or damaged: then writeIncident writes only the files.
 */
export function openLedgerForIncidents(stateDir: string): Store | undefined {
  const path = join(stateDir, "ledger.db");
  if (existsSync(path)) {
    let probe: DatabaseSync | undefined;
    try {
      probe = new DatabaseSync(path);
      probe.exec(`PRAGMA busy_timeout = ${LOCK_WAIT_MS}`);
      probe.exec("BEGIN IMMEDIATE");
      probe.exec("ROLLBACK");
    } catch {
      return undefined;
    } finally {
      if (probe?.isOpen) probe.close();
    }
  }
  try {
    // A write that fails later (disk full) is reported once on stderr, the watchdog's log; the files still hold it.
    return openSqliteStore(path);
  } catch {
    return undefined;
  }
}
