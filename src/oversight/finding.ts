/** What an oversight run reports: findings, each quoting the evidence it rests on. */

export const SEVERITIES = ["info", "warning", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FINDING_STATES = ["open", "acknowledged", "resolved"] as const;
export type FindingState = (typeof FINDING_STATES)[number];

/** What a check reports; the runner gives it an id and a state. */
export interface FindingDraft {
  /** The check that found it, such as `liveness` or `push-without-ci`. */
  check: string;
  severity: Severity;
  /** The agent it is about, or null for the fleet or a repository. */
  agent: string | null;
  /** The constitution article it breaks, by id, or null. */
  article: string | null;
  /** Quotes what was seen: a commit hash, a log line, a ledger event id, a transcript excerpt. */
  evidence: string;
  /** What to do about it, in one sentence. */
  suggestion: string;
  /**
   * Tells this finding apart from others of the same check and agent (a commit hash, an event id).
   * A later run that reports the same check, agent and key updates the finding instead of adding one.
   */
  key: string;
}

/** A recorded finding. */
export interface Finding extends Omit<FindingDraft, "key"> {
  id: string;
  key: string;
  state: FindingState;
  /** The run that first reported it, and when (ms since the epoch). */
  runId: number;
  firstSeen: number;
  /** The last run that reported it. */
  lastSeen: number;
}
