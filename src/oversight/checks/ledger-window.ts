/** How checks read the ledger: events new since the last run, or recent ones for event-based findings. */
import type { LedgerEvent } from "../../ledger/store.ts";
import type { CheckContext } from "../check.ts";

/** Most events of one kind a check reads in one run (the newest are kept). */
export const MAX_EVENTS = 200_000;

/** Most events of a rare kind (restarts, rollbacks, drift) a check looks back over. */
const MAX_RECENT = 5_000;

/**
 * How long an event-based finding (a restart, a rollback, a hand edit) stays reported after its event:
 * an hour, or two intervals when runs are further apart. Then it resolves unless acknowledged first.
 */
export function eventMemoryMs(context: CheckContext): number {
  return Math.max(3_600_000, 2 * context.config.oversight.every);
}

/** Events of `kind` since the last run (on the first run, those of the last interval). */
export function newEvents(context: CheckContext, kind: string): LedgerEvent[] {
  const events = context.ledger.query({ kind, sinceId: context.sinceId, limit: MAX_EVENTS });
  if (context.sinceId > 0) return events;
  const from = context.now - context.config.oversight.every;
  return events.filter((e) => e.ts >= from);
}

/** Events of `kind` within the event memory (eventMemoryMs) before now. */
export function recentEvents(context: CheckContext, kind: string): LedgerEvent[] {
  const from = context.now - eventMemoryMs(context);
  return context.ledger.query({ kind, limit: MAX_RECENT }).filter((e) => e.ts >= from);
}

/** Groups events by their agent (events without one are left out). */
export function byAgent(events: LedgerEvent[]): Map<string, LedgerEvent[]> {
  const groups = new Map<string, LedgerEvent[]>();
  for (const event of events) {
    if (!event.agent) continue;
    const list = groups.get(event.agent);
    if (list) list.push(event);
    else groups.set(event.agent, [event]);
  }
  return groups;
}

/** "#12, #15, #19 and 4 more": event ids as evidence, at most `max` named. */
export function eventIds(events: LedgerEvent[], max = 5): string {
  const named = events.slice(0, max).map((e) => `#${e.id}`);
  const more = events.length - named.length;
  return more > 0 ? `${named.join(", ")} and ${more} more` : named.join(", ");
}
