/** What one alert says: a finding as channels render it, with the repeats the throttle held back. */
import type { Finding } from "../oversight/finding.ts";

/** The finding's fields an alert carries (the check's dedupe key stays inside Flotilla). */
export type AlertFinding = Pick<
  Finding,
  | "id"
  | "check"
  | "severity"
  | "agent"
  | "article"
  | "evidence"
  | "suggestion"
  | "state"
  | "firstSeen"
  | "lastSeen"
>;

/** One alert, as queued: everything a channel renders, and nothing secret. */
export interface Alert {
  finding: AlertFinding;
  /** The oversight run that reported it. */
  run: number;
  /** Reports of this finding the channel's throttle held back since its last alert. */
  repeats: number;
  /** Set when an injected finding stayed unacknowledged for this many runs. */
  escalatedAfter?: number;
}

/** A finding as an alert, with every secret value the daemon holds replaced. */
export function alertOf(finding: Finding, run: number, secrets: readonly string[], repeats = 0): Alert {
  const clean = (text: string) => redact(text, secrets);
  return {
    finding: {
      id: finding.id,
      check: finding.check,
      severity: finding.severity,
      agent: finding.agent,
      article: finding.article,
      evidence: clean(finding.evidence),
      suggestion: clean(finding.suggestion),
      state: finding.state,
      firstSeen: finding.firstSeen,
      lastSeen: finding.lastSeen,
    },
    run,
    repeats,
  };
}

/** Secret values shorter than this are not redacted (they would match ordinary words). */
const MIN_SECRET_LENGTH = 6;

/** The text with every secret value replaced by [redacted]: evidence may quote a log line that holds one. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets)
    if (secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join("[redacted]");
  return out;
}

/** One line: severity, check, agent and, when escalated, why it is here again. */
export function alertTitle(alert: Alert): string {
  const { finding } = alert;
  const who = finding.agent ? ` (${finding.agent})` : "";
  const escalated = alert.escalatedAfter ? ` — unacknowledged after ${alert.escalatedAfter} runs` : "";
  return `[${finding.severity}] ${finding.check}${who}${escalated}`;
}

/** The body as plain lines: evidence, article, what to do, repeats, the finding's id. */
export function alertLines(alert: Alert): string[] {
  const { finding } = alert;
  return [
    `Evidence: ${finding.evidence}`,
    ...(finding.article ? [`Article: ${finding.article}`] : []),
    `Do: ${finding.suggestion}`,
    ...(alert.repeats > 0 ? [`Reported ${alert.repeats} more times since the last alert`] : []),
    `Finding ${finding.id}, run ${alert.run}`,
  ];
}

/** Title and body as one plain-text message. */
export function alertText(alert: Alert): string {
  return [alertTitle(alert), ...alertLines(alert)].join("\n");
}

/** Cuts text to at most max characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
