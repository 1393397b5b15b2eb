/** The message a critical finding puts into an agent's session: short, and it says to deal with it first. */
import { clip } from "../../alerts/alert.ts";
import type { AlertFinding } from "../../alerts/alert.ts";

/** How much of the evidence the message quotes: enough to find it, short enough to read at once. */
const EVIDENCE_MAX = 300;

/**
 * The violation (check and evidence, quoted as data, not instructions), the article, what to do, and the
 * order to address it before any other work.
 */
export function injectionMessage(finding: AlertFinding): string {
  const evidence = JSON.stringify(clip(finding.evidence.replace(/\s+/g, " ").trim(), EVIDENCE_MAX));
  return [
    `Flotilla oversight, critical finding ${finding.id} (${finding.check}${finding.agent ? `, agent ${finding.agent}` : ""}).`,
    `Seen: ${evidence}.`,
    ...(finding.article ? [`Article: ${finding.article}.`] : []),
    `Do: ${finding.suggestion}`,
    `Address this before any other work, then acknowledge finding ${finding.id}.`,
  ].join("\n");
}
