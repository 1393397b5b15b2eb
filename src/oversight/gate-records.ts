/**
 * The gate's ledger events: a pass (gate.passed), an emergency override (gate.emergency), a refusal
 * (gate.refused) and an install (gate.installed), each naming the repository (its repos[] path) and the
 * commits. Oversight reads them to tell a push that skipped the hooks.
 */
import type { LedgerEvent, Store } from "../ledger/store.ts";

export const GATE_EVENTS = ["gate.passed", "gate.emergency", "gate.refused", "gate.installed"] as const;
export type GateEventKind = (typeof GATE_EVENTS)[number];

/** Gate events read at most (newest first): far above what a fleet pushes in the look-back window. */
const MAX_EVENTS = 100_000;

export interface GateLedger {
  /** When the gate was first used for this repository (install or pass), or null. */
  since(repo: string): number | null;
  /** Whether a pass or emergency override names this commit. */
  recorded(repo: string, sha: string): boolean;
  /** Emergency overrides after event id `sinceId`. */
  emergencies(sinceId: number): LedgerEvent[];
}

const shasOf = (event: LedgerEvent): string[] =>
  Array.isArray(event.data.shas) ? event.data.shas.filter((s): s is string => typeof s === "string") : [];

/** Reads the gate's events once for a run. */
export function readGateLedger(ledger: Pick<Store, "query">): GateLedger {
  const events = ledger.query({ kindPrefix: "gate.", limit: MAX_EVENTS });
  const first = new Map<string, number>();
  const recorded = new Set<string>();
  for (const event of events) {
    const repo = typeof event.data.repo === "string" ? event.data.repo : null;
    if (!repo) continue;
    if (event.kind === "gate.installed" || event.kind === "gate.passed" || event.kind === "gate.emergency")
      if (!first.has(repo)) first.set(repo, event.ts);
    if (event.kind === "gate.passed" || event.kind === "gate.emergency")
      for (const sha of shasOf(event)) recorded.add(`${repo}\n${sha}`);
  }
  return {
    since: (repo) => first.get(repo) ?? null,
    recorded: (repo, sha) => recorded.has(`${repo}\n${sha}`),
    emergencies: (sinceId) => events.filter((e) => e.kind === "gate.emergency" && e.id > sinceId),
  };
}
