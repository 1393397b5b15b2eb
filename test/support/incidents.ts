/** A watchdog incident to store, render and list in tests: an agent confirmed down, open unless `more` says otherwise. */
import type { Incident } from "../../src/watchdog/types.ts";

/** An incident about agent coder, detected at detectedAt. */
export function incident(id: string, detectedAt: number, more: Partial<Incident> = {}): Incident {
  return {
    id,
    target: { kind: "agent", id: "agent:coder", name: "coder" },
    firstSeenAt: detectedAt - 20_000,
    detectedAt,
    seen: [
      {
        target: { kind: "agent", id: "agent:coder", name: "coder" },
        state: "down",
        detail: "failed (exit signal SIGKILL)",
        at: detectedAt,
      },
    ],
    proposed: [],
    decisions: [],
    ran: [],
    outcome: "open",
    timeToDetectMs: 20_000,
    modelCalls: 0,
    notes: [],
    ...more,
  };
}
