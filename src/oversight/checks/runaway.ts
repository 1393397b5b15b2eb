/**
 * Runaway: an agent sending the same request over and over (a tool-call loop: one last message, by the
 * gateway's fingerprint), an error loop, or burning tokens far above its own baseline.
 */
import type { LedgerEvent } from "../../ledger/store.ts";
import type { Check, CheckContext } from "../check.ts";
import type { FindingDraft } from "../finding.ts";
import { byAgent, eventIds, MAX_EVENTS, newEvents } from "./ledger-window.ts";

const NAME = "runaway";
const DAY_MS = 86_400_000;
/** Fewest tokens in a run before a burn counts as a runaway. */
const MIN_BURN_TOKENS = 10_000;
/** Shortest history a baseline is taken from (ms). */
const MIN_BASELINE_MS = 3_600_000;

const tokensOf = (e: LedgerEvent): number =>
  Number(e.data.inputTokens ?? 0) + Number(e.data.outputTokens ?? 0);

function loops(context: CheckContext, agent: string, events: LedgerEvent[]): FindingDraft[] {
  const threshold = context.config.oversight.thresholds.repeatedRequests;
  const groups = new Map<string, LedgerEvent[]>();
  for (const e of events) {
    const fp = e.data.fingerprint;
    if (typeof fp !== "string") continue;
    const list = groups.get(fp);
    if (list) list.push(e);
    else groups.set(fp, [e]);
  }
  const drafts: FindingDraft[] = [];
  for (const [fp, same] of groups) {
    if (same.length < threshold) continue;
    const first = same[0] as LedgerEvent;
    const last = same[same.length - 1] as LedgerEvent;
    const tokens = same.reduce((sum, e) => sum + tokensOf(e), 0);
    drafts.push({
      check: NAME,
      severity: "critical",
      agent,
      article: "I",
      evidence: `${same.length} requests by ${agent} with the same last message (fingerprint ${fp}) since the last run, ${tokens} tokens, from ledger event #${first.id} to #${last.id} (gateway.request)`,
      suggestion: `Stop repeating the same call: when a tool gives the same result twice, change the approach or report the task as blocked.`,
      key: `loop:${fp}`,
    });
  }
  return drafts;
}

function errorLoop(context: CheckContext, agent: string, failed: LedgerEvent[]): FindingDraft[] {
  const threshold = context.config.oversight.thresholds.repeatedRequests;
  if (failed.length < threshold) return [];
  return [
    {
      check: NAME,
      severity: "warning",
      agent,
      article: null,
      evidence: `${failed.length} failed requests by ${agent} since the last run: ledger events ${eventIds(failed)}`,
      suggestion: `Find out why ${agent}'s requests fail ("flotilla events --agent ${agent} --kind gateway") and stop it retrying blindly.`,
      key: "error-loop",
    },
  ];
}

function burn(context: CheckContext, agent: string, windowEvents: LedgerEvent[]): FindingDraft[] {
  const windowTokens = windowEvents.reduce((sum, e) => sum + tokensOf(e), 0);
  if (windowTokens < MIN_BURN_TOKENS) return [];
  const windowStart = context.lastRunAt ?? context.now - context.config.oversight.every;
  const firstNew = windowEvents[0]?.id ?? Infinity;
  const history = context.ledger
    .query({ kind: "gateway.request", agent, limit: MAX_EVENTS })
    .filter((e) => e.id < firstNew && e.ts >= context.now - DAY_MS && e.ts < windowStart);
  if (history.length === 0) return [];
  const span = windowStart - (history[0] as LedgerEvent).ts;
  if (span < MIN_BASELINE_MS) return [];
  const baseline = history.reduce((sum, e) => sum + tokensOf(e), 0) / span;
  const rate = windowTokens / Math.max(1, context.now - windowStart);
  const factor = context.config.oversight.thresholds.burnFactor;
  if (baseline <= 0 || rate <= factor * baseline) return [];
  const perHour = (r: number) => Math.round(r * 3_600_000);
  return [
    {
      check: NAME,
      severity: "warning",
      agent,
      article: "I",
      evidence: `${agent} burned ${windowTokens} tokens since the last run, ${perHour(rate)} tokens/h against its own baseline of ${perHour(baseline)} tokens/h over the last day (${(rate / baseline).toFixed(1)}×, threshold ${factor}×); ledger events ${eventIds(windowEvents)}`,
      suggestion: `Check what ${agent} is working on; a task that needs this much should be split or approved first.`,
      key: "burn",
    },
  ];
}

export const runawayCheck: Check = {
  name: NAME,
  run(context) {
    const requests = byAgent(newEvents(context, "gateway.request"));
    const failures = byAgent([
      ...newEvents(context, "gateway.exhausted"),
      ...[...requests.values()].flat().filter((e) => Number(e.data.status) >= 400),
    ]);
    const agents = new Set([...requests.keys(), ...failures.keys()]);
    const drafts: FindingDraft[] = [];
    for (const agent of agents) {
      const events = requests.get(agent) ?? [];
      drafts.push(...loops(context, agent, events), ...errorLoop(context, agent, failures.get(agent) ?? []));
      drafts.push(...burn(context, agent, events));
    }
    return drafts;
  },
};
