/**
 * Limits: upstream 429s, the share of an agent's requests answered by a fallback tier, a budget burning
 * faster than the day allows, and requests that fill most of the context window.
 */
import type { LedgerEvent } from "../../ledger/store.ts";
import type { Check, CheckContext } from "../check.ts";
import type { FindingDraft } from "../finding.ts";
import { byAgent, eventIds, newEvents } from "./ledger-window.ts";

const NAME = "limits";
const DAY_MS = 86_400_000;
/** Fewest requests in a run before a fallback share means anything. */
const MIN_REQUESTS_FOR_SHARE = 4;

function draft(
  agent: string,
  key: string,
  severity: FindingDraft["severity"],
  evidence: string,
  suggestion: string,
) {
  return { check: NAME, severity, agent, article: null, evidence, suggestion, key };
}

function rateLimited(context: CheckContext): FindingDraft[] {
  const hits = newEvents(context, "gateway.key_cooldown").filter((e) => Number(e.data.status) === 429);
  return [...byAgent(hits)].map(([agent, events]) => {
    const providers = [...new Set(events.map((e) => String(e.data.provider)))].join(", ");
    return draft(
      agent,
      "429",
      "warning",
      `${events.length} upstream 429(s) for ${agent}'s requests since the last run (provider ${providers}): ledger events ${eventIds(events)} (gateway.key_cooldown)`,
      `Spread ${agent}'s load: add keys or a secondary provider for its model, or lower its request rate.`,
    );
  });
}

function fallbackShare(context: CheckContext, requests: Map<string, LedgerEvent[]>): FindingDraft[] {
  const threshold = context.config.oversight.thresholds.fallbackShare;
  const drafts: FindingDraft[] = [];
  for (const [agent, events] of requests) {
    if (events.length < MIN_REQUESTS_FOR_SHARE) continue;
    const fallback = events.filter((e) => e.data.tier === "fallback");
    const share = fallback.length / events.length;
    if (fallback.length === 0 || share < threshold) continue;
    drafts.push(
      draft(
        agent,
        "fallback-share",
        "warning",
        `${fallback.length} of ${agent}'s ${events.length} requests (${Math.round(share * 100)} %, threshold ${Math.round(threshold * 100)} %) were answered by a fallback tier since the last run: ledger events ${eventIds(fallback)}`,
        `Check why ${agent}'s primary model is not answering (429s, a dead key, an outage); review work done on the fallback tier.`,
      ),
    );
  }
  return drafts;
}

function contextPressure(context: CheckContext, requests: Map<string, LedgerEvent[]>): FindingDraft[] {
  const threshold = context.config.oversight.thresholds.contextPressure;
  const drafts: FindingDraft[] = [];
  for (const [agent, events] of requests) {
    const full = events.filter((e) => Number(e.data.contextPressure ?? 0) >= threshold);
    if (full.length === 0) continue;
    const worst = Math.max(...full.map((e) => Number(e.data.contextPressure)));
    drafts.push(
      draft(
        agent,
        "context-pressure",
        "warning",
        `${full.length} of ${agent}'s requests filled at least ${Math.round(threshold * 100)} % of the context window since the last run (worst ${Math.round(worst * 100)} %): ledger events ${eventIds(full)}`,
        `Have ${agent} summarise or start a fresh session before its context overflows, or give it a model with a larger window.`,
      ),
    );
  }
  return drafts;
}

function budgetBurn(context: CheckContext): FindingDraft[] {
  const budgets = context.config.agents.flatMap((a) => (a.budget ? [[a.name, a.budget.daily] as const] : []));
  if (budgets.length === 0) return [];
  const dayStart = context.now - (context.now % DAY_MS);
  const today = context.ledger
    .query({ kind: "gateway.request", limit: 200_000 })
    .filter((e) => e.ts >= dayStart);
  const spent = new Map<string, number>();
  for (const e of today)
    if (e.agent) spent.set(e.agent, (spent.get(e.agent) ?? 0) + Number(e.data.costUsd ?? 0));
  // Pace over at least an hour, so the first requests after midnight do not look like a runaway.
  const elapsed = Math.max(context.now - dayStart, 3_600_000);
  const drafts: FindingDraft[] = [];
  for (const [agent, daily] of budgets) {
    const sofar = spent.get(agent) ?? 0;
    const projected = (sofar / elapsed) * DAY_MS;
    if (sofar === 0 || projected <= daily) continue;
    drafts.push(
      draft(
        agent,
        "budget-burn",
        "warning",
        `${agent} spent $${sofar.toFixed(4)} so far today (UTC); at this rate it reaches $${projected.toFixed(2)} of its $${daily} daily budget`,
        `Look at what ${agent} is doing ("flotilla events --agent ${agent} --kind gateway.request"); it will be stopped at its budget.`,
      ),
    );
  }
  return drafts;
}

export const limitsCheck: Check = {
  name: NAME,
  run(context) {
    const requests = byAgent(newEvents(context, "gateway.request"));
    return [
      ...rateLimited(context),
      ...fallbackShare(context, requests),
      ...contextPressure(context, requests),
      ...budgetBurn(context),
    ];
  },
};
