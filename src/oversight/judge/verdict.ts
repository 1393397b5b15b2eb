/**
 * The judge's answer, checked: it must parse as JSON against the verdict schema, and each finding's
 * evidence must be found in the transcript window (whitespace runs count as one space). Anything else
 * is an error to record, never a pass.
 */
import { z } from "zod";
import { SEVERITIES } from "../finding.ts";
import { JUDGE_CHECK_NAMES } from "./judge-checks.ts";

/** Evidence shorter than this quotes nothing in particular. */
export const MIN_EVIDENCE_CHARS = 8;

export const verdictSchema = z.object({
  findings: z.array(
    z.object({
      check: z.enum(JUDGE_CHECK_NAMES),
      severity: z.enum(SEVERITIES),
      evidence: z.string().min(MIN_EVIDENCE_CHARS),
      suggestion: z.string().min(1),
      article: z.string().min(1).nullish(),
    }),
  ),
});

export type JudgeFinding = z.output<typeof verdictSchema>["findings"][number];

export interface CheckedVerdict {
  /** Findings whose evidence the window holds. */
  findings: JudgeFinding[];
  /** What was wrong with the answer, one sentence each: not JSON, not the schema, a quote not in the window. */
  errors: string[];
}

const squash = (text: string) => text.replace(/\s+/g, " ").trim();

/** The JSON in an answer: the whole text, or the inside of one ```json fence around it. */
function jsonText(answer: string): string {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/.exec(answer);
  return fenced?.[1] ?? answer;
}

/** Parses and checks one answer against the window it judged. */
export function checkVerdict(answer: string, window: string): CheckedVerdict {
  let json: unknown;
  try {
    json = JSON.parse(jsonText(answer));
  } catch {
    return { findings: [], errors: [`the judge's answer is not JSON: ${excerpt(answer)}`] };
  }
  const parsed = verdictSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") || "the answer";
    return {
      findings: [],
      errors: [
        `the judge's answer does not match the verdict schema (${where}: ${issue?.message ?? "invalid"})`,
      ],
    };
  }
  const haystack = squash(window);
  const findings: JudgeFinding[] = [];
  const errors: string[] = [];
  for (const finding of parsed.data.findings) {
    if (haystack.includes(squash(finding.evidence))) findings.push(finding);
    else
      errors.push(
        `the judge quoted what the transcript does not hold (${finding.check}): ${excerpt(finding.evidence)}`,
      );
  }
  return { findings, errors };
}

/** At most 160 characters of a text, on one line, for an error's evidence. */
export function excerpt(text: string, max = 160): string {
  const line = squash(text);
  return JSON.stringify(line.length > max ? `${line.slice(0, max)}…` : line);
}
