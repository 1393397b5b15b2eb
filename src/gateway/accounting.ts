/** Tokens, cost and daily budgets per agent; every finished request becomes one ledger event, written off the hot path. */
import type { FlotillaConfig } from "../config/schema.ts";
import type { Store } from "../ledger/store.ts";

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface RequestRecord {
  agent: string;
  provider: string;
  model: string;
  tier: "primary" | "secondary" | "fallback";
  usage: Usage | undefined;
  latencyMs: number;
  status: number;
  attempts: number;
  stream: boolean;
  /** Prompt tokens ÷ the model's context window. */
  contextPressure: number;
  /** The last message's hash, for oversight's loop check (null when the request had no messages). */
  fingerprint?: string | null;
}

const MILLION = 1_000_000;
const DAY_MS = 86_400_000;

function dayStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

export function createAccounting(config: FlotillaConfig, store: Store, clock: () => number = Date.now) {
  const spent = new Map<string, number>();
  let day = dayStart(clock());
  let nextDay = day + DAY_MS;
  // Spend so far today survives a gateway restart: read it back from the ledger once.
  for (const event of store.query({ kind: "gateway.request", limit: 100_000 })) {
    if (event.ts >= day && event.agent)
      spent.set(event.agent, (spent.get(event.agent) ?? 0) + Number(event.data.costUsd ?? 0));
  }
  const prices = new Map(config.providers.map((p) => [p.id, p.prices]));
  const budgets = new Map(
    config.agents.flatMap((a) => (a.budget ? [[a.name, a.budget.daily] as const] : [])),
  );

  function rollDay(): void {
    const now = clock();
    if (now >= day && now < nextDay) return; // the common case, without building a Date
    day = dayStart(now);
    nextDay = day + DAY_MS;
    spent.clear();
  }

  function cost(providerId: string, model: string, usage: Usage | undefined): number {
    const price = prices.get(providerId)?.[model];
    if (!price || !usage) return 0;
    return (usage.inputTokens * price.input + usage.outputTokens * price.output) / MILLION;
  }

  return {
    /** Undefined while the agent may spend; else its budget and what it spent today. */
    overBudget(agent: string): { daily: number; spent: number } | undefined {
      rollDay();
      const daily = budgets.get(agent);
      const today = spent.get(agent) ?? 0;
      return daily !== undefined && today >= daily ? { daily, spent: today } : undefined;
    },
    record(entry: RequestRecord): number {
      rollDay();
      const costUsd = cost(entry.provider, entry.model, entry.usage);
      spent.set(entry.agent, (spent.get(entry.agent) ?? 0) + costUsd);
      store.append({
        kind: "gateway.request",
        agent: entry.agent,
        data: {
          provider: entry.provider,
          model: entry.model,
          tier: entry.tier,
          inputTokens: entry.usage?.inputTokens ?? null,
          outputTokens: entry.usage?.outputTokens ?? null,
          costUsd,
          latencyMs: Math.round(entry.latencyMs),
          status: entry.status,
          attempts: entry.attempts,
          stream: entry.stream,
          contextPressure: Math.round(entry.contextPressure * 1000) / 1000,
          fingerprint: entry.fingerprint ?? null,
        },
      });
      return costUsd;
    },
    spentToday(agent: string): number {
      rollDay();
      return spent.get(agent) ?? 0;
    },
  };
}

export type Accounting = ReturnType<typeof createAccounting>;
