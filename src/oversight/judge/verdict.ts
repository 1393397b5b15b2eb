/**
 * The judge's answer, checked: it must parse as JSON against the verdict schema, and each finding's
 * evidence must be found in the transcript window (whitespace runs count as one space). Anything else
 * is an error to record, never a pass.
 */
import { type Severity, SEVERITIES } from "../finding.ts";
import { JUDGE_CHECK_NAMES, type JudgeCheck } from "./judge-checks.ts";

/** Evidence shorter than this quotes nothing in particular. */
export const MIN_EVIDENCE_CHARS = 8;

/** One finding of a verdict: `{ findings: JudgeFinding[] }` is the whole schema. */
export interface JudgeFinding {
  check: JudgeCheck;
  severity: Severity;
  evidence: string;
  suggestion: string;
  article?: string | null;
}

type Loose = Record<string, unknown>;
const isRecord = (value: unknown): value is Loose =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const oneOf = (values: readonly string[]) => values.map((v) => `"${v}"`).join(", ");

/**
 * The verdict checked against its schema with plain checks (the daemon does not load zod for five
 * fields): the findings, or where the first problem is and what it is.
 */
function verdictFindings(
  json: unknown,
): { ok: true; findings: JudgeFinding[] } | { ok: false; where: string; message: string } {
  if (!isRecord(json) || !Array.isArray(json.findings))
    return { ok: false, where: "findings", message: "must be an array" };
  const findings: JudgeFinding[] = [];
  for (const [index, item] of json.findings.entries()) {
    const at = (field: string) => `findings.${index}.${field}`;
    if (!isRecord(item)) return { ok: false, where: `findings.${index}`, message: "must be an object" };
    const { check, severity, evidence, suggestion, article } = item;
    if (typeof check !== "string" || !(JUDGE_CHECK_NAMES as readonly string[]).includes(check))
      return { ok: false, where: at("check"), message: `must be one of ${oneOf(JUDGE_CHECK_NAMES)}` };
    if (typeof severity !== "string" || !(SEVERITIES as readonly string[]).includes(severity))
      return { ok: false, where: at("severity"), message: `must be one of ${oneOf(SEVERITIES)}` };
    if (typeof evidence !== "string" || evidence.length < MIN_EVIDENCE_CHARS)
      return {
        ok: false,
        where: at("evidence"),
        message: `must be a quote of at least ${MIN_EVIDENCE_CHARS} characters`,
      };
    if (typeof suggestion !== "string" || suggestion.length === 0)
      return { ok: false, where: at("suggestion"), message: "must be a non-empty string" };
    if (!(article === undefined || article === null || (typeof article === "string" && article.length > 0)))
      return { ok: false, where: at("article"), message: "must be a non-empty string or null" };
    findings.push({
      check: check as JudgeCheck,
      severity: severity as Severity,
      evidence,
      suggestion,
      ...(typeof article === "string" ? { article } : {}),
    });
  }
  return { ok: true, findings };
}

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
  const parsed = verdictFindings(json);
  if (!parsed.ok)
    return {
      findings: [],
      errors: [`the judge's answer does not match the verdict schema (${parsed.where}: ${parsed.message})`],
    };
  const haystack = squash(window);
  const findings: JudgeFinding[] = [];
  const errors: string[] = [];
  for (const finding of parsed.findings) {
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
