/**
 * `flotilla incidents [--open] | show ID | ack ID`: the watchdog's incidents, newest first, read straight from
 * <stateDir>/watchdog.db (no daemon needed; WAL lets it read while the watchdog writes). `ack` lifts the halt
 * the watchdog set on the incident's target and records incident.resolved when the incident was open.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FlotillaError } from "../errors.ts";
import { duration, renderIncident } from "../watchdog/incident-render.ts";
import { openLedgerForIncidents, writeIncident } from "../watchdog/incident-log.ts";
import { isOpen, openWatchdogState, type WatchdogState } from "../watchdog/state-store.ts";
import type { Incident } from "../watchdog/types.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";

const USAGE = "flotilla incidents [--open] | show ID | ack ID [-c FILE] [--json]";

/** Runs fn on the watchdog's state; without a watchdog.db yet, on an empty view (nothing is created). */
function withState<T>(stateDir: string, fn: (state: WatchdogState | undefined) => T): T {
  if (!existsSync(join(stateDir, "watchdog.db"))) return fn(undefined);
  const state = openWatchdogState(stateDir);
  try {
    return fn(state);
  } finally {
    state.close();
  }
}

function notFound(id: string, state: WatchdogState | undefined): FlotillaError {
  const recent = (state?.incidents({ limit: 5 }) ?? []).map((i) => i.id);
  return new FlotillaError(
    "FLOTILLA_E_INCIDENT_NOT_FOUND",
    `no incident "${id}"; ${recent.length ? `recent ones: ${recent.join(", ")}` : "the watchdog has recorded none"} ("flotilla incidents" lists them)`,
  );
}

function flags(i: Incident): string {
  const marks = [
    i.escalatedAt !== undefined ? "escalated" : "",
    i.acknowledgedAt !== undefined ? "acked" : "",
  ];
  return marks.filter(Boolean).join(",") || "-";
}

function renderList(incidents: Incident[]): string {
  if (incidents.length === 0) return "no incidents";
  const rows = [
    ["ID", "TARGET", "OUTCOME", "DETECTED", "DETECT", "RECOVER", "MODEL", "FLAGS"],
    ...incidents.map((i) => [
      i.id,
      i.target.id,
      i.outcome,
      new Date(i.detectedAt).toISOString().replace(/\.\d+Z$/, "Z"),
      duration(i.timeToDetectMs),
      duration(i.timeToRecoverMs),
      String(i.modelCalls),
      flags(i),
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function oneId(rest: string[], verb: string): string {
  const [id] = rest;
  if (!id || rest.length > 1)
    throw new FlotillaError("FLOTILLA_E_USAGE", `${verb} takes one incident id; usage: ${USAGE}`);
  return id;
}

export const incidentsCommand: Command = {
  name: "incidents",
  summary: "List the watchdog's incidents, show one, or acknowledge one (lifts its halt)",
  usage: USAGE,
  options: { open: { type: "boolean" } },
  async run(input) {
    const { config } = loadForCli(input);
    const stateDir = config.stateDir;
    const [action, ...rest] = input.positionals;
    if (action === undefined) {
      const open = input.values.open === true;
      const incidents = withState(stateDir, (state) => state?.incidents({ open, limit: 1000 }) ?? []);
      if (input.json) printJson({ incidents });
      else print(renderList(incidents));
      return 0;
    }
    if (action === "show") {
      const id = oneId(rest, "show");
      const incident = withState(stateDir, (state) => {
        const found = state?.incident(id);
        if (!found) throw notFound(id, state);
        return found;
      });
      if (input.json) printJson({ incident });
      else print(renderIncident(incident));
      return 0;
    }
    if (action === "ack") {
      const id = oneId(rest, "ack");
      const { before, after } = withState(stateDir, (state) => {
        const found = state?.incident(id);
        if (!state || !found) throw notFound(id, state);
        return { before: found, after: state.acknowledge(id, Date.now()) ?? found };
      });
      if (before.acknowledgedAt === undefined) {
        // The files and the ledger follow; a locked or damaged ledger leaves the files only.
        const ledger = isOpen(before) ? openLedgerForIncidents(stateDir) : undefined;
        try {
          writeIncident(stateDir, after, ledger);
        } finally {
          ledger?.close();
        }
      }
      if (input.json) printJson({ incident: after });
      else
        print(
          before.acknowledgedAt === undefined
            ? `acknowledged ${id}; the watchdog may act on ${after.target.id} again`
            : `${id} was already acknowledged at ${new Date(before.acknowledgedAt).toISOString()}; nothing changed`,
        );
      return 0;
    }
    throw new FlotillaError("FLOTILLA_E_USAGE", `say show or ack, or nothing to list; usage: ${USAGE}`);
  },
};
