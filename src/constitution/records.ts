/**
 * The constitution's ledger events, read and written: amendments, penalties, strict mode and incidents.
 * The ledger is the only record; nothing here keeps state of its own, so every reader sees the same truth.
 */
import { FlotillaError } from "../errors.ts";
import type { LedgerEvent, Store } from "../ledger/store.ts";
import { type Article, parseArticleNumber } from "./articles.ts";
import { checkPenalty, type PenaltyInput } from "./penalty-rules.ts";

/** Event kinds this module owns (incidents are raised by the watchdog; they are only read here). */
export const KINDS = {
  amended: "constitution.amended",
  penalty: "penalty.recorded",
  strictSet: "strict.set",
  strictCleared: "strict.cleared",
  incidentOpened: "incident.opened",
  incidentResolved: "incident.resolved",
} as const;

/** Reads every event of a kind: these histories are small, and a brief must never lose an old amendment. */
const ALL = 1_000_000;

export interface Amendment {
  /** The constitution's version after this amendment: 2 for the first (the file alone is version 1). */
  version: number;
  article: number;
  text: string;
  reason: string;
  ts: number;
}

export interface Penalty {
  /** The ledger event id. */
  id: number;
  agent: string;
  what: string;
  why: string;
  change: string;
  permanent: boolean;
  /** "operator" (flotilla penalty add) or "self" (the agent reported its own violation). */
  source: "operator" | "self";
  ts: number;
}

export interface StrictMode {
  agent: string;
  since: number;
  /** The penalty that set it. */
  penaltyId: number | null;
}

export interface Incident {
  id: string;
  agent: string | null;
  title: string;
  ts: number;
  /** Resolved incidents: how it ended ("recovered", "escalated", "acknowledged") and when. */
  outcome?: string;
  resolvedAt?: number;
}

const text = (data: Record<string, unknown>, key: string): string =>
  typeof data[key] === "string" ? data[key] : "";

/** Every amendment, oldest first. */
export function listAmendments(store: Store): Amendment[] {
  return store.query({ kind: KINDS.amended, limit: ALL }).map((e, i) => ({
    version: typeof e.data.version === "number" ? e.data.version : i + 2,
    article: Number(e.data.article),
    text: text(e.data, "text"),
    reason: text(e.data, "reason"),
    ts: e.ts,
  }));
}

function toPenalty(e: LedgerEvent): Penalty {
  return {
    id: e.id,
    agent: e.agent ?? "",
    what: text(e.data, "what"),
    why: text(e.data, "why"),
    change: text(e.data, "change"),
    permanent: e.data.permanent === true,
    source: e.data.source === "self" ? "self" : "operator",
    ts: e.ts,
  };
}

/** Penalties, newest first; of one agent when given. */
export function listPenalties(store: Store, agent?: string): Penalty[] {
  return store
    .query({ kind: KINDS.penalty, limit: ALL, ...(agent ? { agent } : {}) })
    .map(toPenalty)
    .reverse();
}

/** Agents in strict mode now: the last strict event of each agent decides. */
export function strictModes(store: Store): Map<string, StrictMode> {
  const modes = new Map<string, StrictMode>();
  for (const e of store.query({ kindPrefix: "strict.", limit: ALL })) {
    if (!e.agent) continue;
    if (e.kind === KINDS.strictSet) {
      const penaltyId = typeof e.data.penaltyId === "number" ? e.data.penaltyId : null;
      modes.set(e.agent, { agent: e.agent, since: e.ts, penaltyId });
    } else if (e.kind === KINDS.strictCleared) modes.delete(e.agent);
  }
  return modes;
}

/** Incidents opened and not yet resolved (matched on data.id), about the agent or the whole fleet. */
export function openIncidents(store: Store, agent?: string): Incident[] {
  const open = new Map<string, Incident>();
  for (const e of store.query({ kindPrefix: "incident.", limit: ALL })) {
    const id = text(e.data, "id") || String(e.id);
    if (e.kind === KINDS.incidentOpened)
      open.set(id, { id, agent: e.agent, title: text(e.data, "title") || text(e.data, "summary"), ts: e.ts });
    else if (e.kind === KINDS.incidentResolved) open.delete(id);
  }
  return [...open.values()].filter((i) => !agent || i.agent === null || i.agent === agent);
}

/** Incidents resolved since `since` (ms since the epoch), newest first: what the coordinator reads on waking. */
export function recentIncidents(store: Store, since: number): Incident[] {
  const opened = new Map<string, Incident>();
  const resolved: Incident[] = [];
  for (const e of store.query({ kindPrefix: "incident.", limit: ALL })) {
    const id = text(e.data, "id") || String(e.id);
    if (e.kind === KINDS.incidentOpened)
      opened.set(id, {
        id,
        agent: e.agent,
        title: text(e.data, "title") || text(e.data, "summary"),
        ts: e.ts,
      });
    else if (e.kind === KINDS.incidentResolved && e.ts >= since) {
      const first = opened.get(id);
      resolved.push({
        id,
        agent: first?.agent ?? e.agent,
        title: first?.title ?? "",
        ts: first?.ts ?? e.ts,
        outcome: text(e.data, "outcome") || "resolved",
        resolvedAt: e.ts,
      });
    }
  }
  return resolved.sort((a, b) => (b.resolvedAt ?? 0) - (a.resolvedAt ?? 0));
}

/** An amendment as asked for, before it is checked. */
export interface AmendmentInput {
  article?: number | string;
  text?: string;
  reason?: string;
}

/** Checks an amendment against the articles and records it; returns it with its version. Nothing is written on error. */
export function recordAmendment(
  store: Store,
  articles: readonly Article[],
  input: AmendmentInput,
): Amendment {
  const problems: string[] = [];
  const article =
    typeof input.article === "number"
      ? input.article
      : (parseArticleNumber(String(input.article ?? "")) ?? NaN);
  const body = typeof input.text === "string" ? input.text.trim() : "";
  const reason = typeof input.reason === "string" ? input.reason.trim() : "";
  if (articles.length === 0) {
    problems.push(
      "the constitution has no articles to amend; write constitution.md first (flotilla init does)",
    );
  } else if (!Number.isInteger(article) || !articles.some((a) => a.number === article)) {
    const known = articles.map((a) => a.numeral).join(", ");
    const given =
      input.article === undefined ? "--article is required" : `there is no Article ${String(input.article)}`;
    problems.push(`${given} (articles: ${known})`);
  }
  if (!body) problems.push("the amendment text is required");
  if (!reason) problems.push("--reason is required: say why the constitution changes");
  if (problems.length > 0)
    throw new FlotillaError("FLOTILLA_E_AMENDMENT_INVALID", `amendment not recorded: ${problems.join("; ")}`);
  const version = listAmendments(store).length + 2;
  const ts = Date.now();
  store.append({ kind: KINDS.amended, ts, data: { version, article, text: body, reason } });
  store.flush();
  return { version, article, text: body, reason, ts };
}

/**
 * Checks a penalty and records it; a self-reported one also puts the agent in strict mode.
 * Returns the recorded penalty. Nothing is written on error.
 */
export function recordPenalty(
  store: Store,
  input: Partial<PenaltyInput>,
  options: { knownAgents?: readonly string[]; source?: "operator" | "self" } = {},
): Penalty {
  const penalty = checkPenalty(input, options.knownAgents);
  const source = options.source ?? "operator";
  const ts = Date.now();
  const { agent, ...fields } = penalty;
  store.append({
    kind: KINDS.penalty,
    agent,
    ts,
    data: { ...fields, permanent: penalty.permanent === true, source },
  });
  store.flush();
  const recorded = listPenalties(store, agent)[0];
  if (!recorded) throw new Error(`penalty for ${agent} was not written to the ledger`);
  if (source === "self") {
    store.append({ kind: KINDS.strictSet, agent, data: { penaltyId: recorded.id } });
    store.flush();
  }
  return recorded;
}

/** Takes an agent out of strict mode; returns false (and writes nothing) when it was not in it. */
export function clearStrict(store: Store, agent: string, by = "operator"): boolean {
  if (!strictModes(store).has(agent)) return false;
  store.append({ kind: KINDS.strictCleared, agent, data: { by } });
  store.flush();
  return true;
}
