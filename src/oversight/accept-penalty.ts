/** Accepting the penalty a finding drafted: recorded once through the constitution, linked to the finding. */
import type { Constitution } from "../constitution/service.ts";
import { FlotillaError } from "../errors.ts";
import type { FindingsStore } from "./findings-store.ts";

export function findingNotFound(id: string): FlotillaError {
  return new FlotillaError(
    "FLOTILLA_E_FINDING_NOT_FOUND",
    `no finding ${id}; "flotilla oversight findings --state all" lists them`,
    { status: 404 },
  );
}

/** Records the penalty a finding drafted, once; the finding keeps the penalty's id. */
export function acceptPenalty(store: FindingsStore, constitution: Constitution, id: string) {
  const finding = store.get(id);
  if (!finding) throw findingNotFound(id);
  if (finding.penaltyId !== null)
    throw new FlotillaError(
      "FLOTILLA_E_PENALTY_INVALID",
      `finding ${id} already has penalty #${finding.penaltyId}; "flotilla penalty list" shows it`,
    );
  if (!finding.penalty || !finding.agent)
    throw new FlotillaError(
      "FLOTILLA_E_PENALTY_INVALID",
      `finding ${id} (${finding.check}) drafted no penalty: it is about ${finding.agent ?? "no single agent"} and names ${finding.article ? `Article ${finding.article}` : "no article"}; record one by hand with "flotilla penalty add --agent A --what ... --why ... --change ..."`,
    );
  const recorded = constitution.addPenalty({ agent: finding.agent, ...finding.penalty });
  store.linkPenalty(id, recorded.id);
  return { penalty: recorded, finding: store.get(id) };
}
