/** The contract every oversight check keeps: read what happened since the last run, report, never act. */
import type { FlotillaConfig } from "../config/schema.ts";
import type { Store } from "../ledger/store.ts";
import type { AgentStatus } from "../supervisor/agent-runner.ts";
import type { FindingDraft } from "./finding.ts";

export interface CheckContext {
  config: FlotillaConfig;
  /** The ledger, read-only for checks. */
  ledger: Pick<Store, "query">;
  /** Ledger events with an id above this are new since the last run (0 on the first run). */
  sinceId: number;
  /** When the last run finished (ms since the epoch), or null on the first run. */
  lastRunAt: number | null;
  now: number;
  /** The supervisor's view of each agent right now. */
  status: () => AgentStatus[];
}

/** One deterministic check, in a module of its own under src/oversight/checks/. */
export interface Check {
  name: string;
  /** Findings for what it saw; it throws only for its own failures, which the runner records as a finding. */
  run(context: CheckContext): Promise<FindingDraft[]> | FindingDraft[];
}
