/**
 * Liveness: agents down now (failed or backing off), crash loops and restarts, a provider key declared
 * dead, a budget stop, a config rollback. Each quotes the ledger event it rests on.
 */
import type { LedgerEvent } from "../../ledger/store.ts";
import type { Check, CheckContext } from "../check.ts";
import type { FindingDraft } from "../finding.ts";
import { byAgent, eventIds, recentEvents } from "./ledger-window.ts";

const NAME = "liveness";

function lastOf(events: LedgerEvent[]): LedgerEvent | undefined {
  return events[events.length - 1];
}

function downNow(context: CheckContext): FindingDraft[] {
  const drafts: FindingDraft[] = [];
  for (const status of context.status()) {
    if (status.state !== "failed" && status.state !== "backoff") continue;
    const events = context.ledger.query({ agent: status.name, kind: `agent.${status.state}`, limit: 1 });
    const event = lastOf(events);
    const exit = status.lastExit
      ? ` (last exit code ${status.lastExit.code}, signal ${status.lastExit.signal})`
      : "";
    const burst = event?.data.reason === "burst";
    drafts.push({
      check: NAME,
      severity: status.state === "failed" ? "critical" : "warning",
      agent: status.name,
      article: null,
      evidence: `${status.name} is ${status.state}${burst ? " after a crash loop" : ""}${exit}${event ? `; ledger event #${event.id} agent.${status.state}` : ""}`,
      suggestion: `Read "flotilla logs ${status.name}" for the cause, fix it, then "flotilla start ${status.name}".`,
      key: burst ? "crash-loop" : `down:${status.state}`,
    });
  }
  return drafts;
}

function restarts(context: CheckContext): FindingDraft[] {
  const automatic = recentEvents(context, "agent.restarted").filter((e) => e.data.manual !== true);
  const drafts: FindingDraft[] = [];
  for (const [agent, events] of byAgent(automatic)) {
    drafts.push({
      check: NAME,
      severity: "warning",
      agent,
      article: null,
      evidence: `${events.length} automatic restart(s) of ${agent} in the last hour: ledger events ${eventIds(events)} (agent.restarted)`,
      suggestion: `Read "flotilla logs ${agent}" and "flotilla describe ${agent}" for why it keeps exiting.`,
      key: "restarts",
    });
  }
  return drafts;
}

function oneEach(
  context: CheckContext,
  kind: string,
  severity: FindingDraft["severity"],
  describe: (e: LedgerEvent) => { evidence: string; suggestion: string },
): FindingDraft[] {
  return recentEvents(context, kind).map((event) => ({
    check: NAME,
    severity,
    agent: event.agent,
    article: null,
    ...describe(event),
    key: `${kind}:${event.id}`,
  }));
}

export const livenessCheck: Check = {
  name: NAME,
  run(context) {
    return [
      ...downNow(context),
      ...restarts(context),
      ...oneEach(context, "gateway.key_dead", "critical", (e) => ({
        evidence: `ledger event #${e.id} gateway.key_dead: provider ${String(e.data.provider)} key ${String(e.data.key)} declared dead (${String(e.data.reason)}); ${String(e.data.usable)} key(s) left`,
        suggestion: `Replace key ${String(e.data.key)} of provider ${String(e.data.provider)} in the config and apply it.`,
      })),
      ...oneEach(context, "gateway.budget_exceeded", "warning", (e) => ({
        evidence: `ledger event #${e.id} gateway.budget_exceeded: ${e.agent ?? "an agent"} spent $${Number(e.data.spent ?? 0).toFixed(4)} of its $${String(e.data.daily)} daily budget; its requests are refused`,
        suggestion: `Find out why ${e.agent ?? "the agent"} spent its budget, then raise budget.daily or let it wait for tomorrow.`,
      })),
      ...oneEach(context, "config.rolled_back", "critical", (e) => ({
        evidence: `ledger event #${e.id} config.rolled_back: config apply ${String(e.data.id)} failed its health check and was rolled back${e.data.healthy === false ? "; the old config is not healthy either" : ""}`,
        suggestion: `Run "flotilla config history" and "flotilla events --kind config" to see which agent failed, and fix the change before applying it again.`,
      })),
    ];
  },
};
