/** What makes a penalty acceptable: three specific fields (what happened, why, what changed), never a vague apology. */
import { FlotillaError } from "../errors.ts";

/** A penalty as given by an operator or reported by an agent, before it is recorded. */
export interface PenaltyInput {
  agent: string;
  what: string;
  why: string;
  change: string;
  /** The change becomes a standing prohibition in the agent's brief. */
  permanent?: boolean;
}

/**
 * The penalty fields present as strings in a request body or the CLI's options (others are left out, so
 * checkPenalty names them as missing); `permanent` only when it is exactly true.
 */
export function penaltyInputOf(fields: Record<string, unknown>): Partial<PenaltyInput> {
  const input: Partial<PenaltyInput> = { permanent: fields.permanent === true };
  for (const key of ["agent", "what", "why", "change"] as const) {
    const value = fields[key];
    if (typeof value === "string") input[key] = value;
  }
  return input;
}

/** Fewest words a field may have: shorter entries cannot say which file, command or claim was involved. */
export const MIN_WORDS = 8;
/** Longest a field may be, so one entry cannot flood every later brief (characters). */
export const MAX_CHARS = 2000;

/**
 * Phrases that say nothing on their own. A field built around one of them is vague unless it is long
 * enough to carry the specifics too.
 */
const VAGUE_PHRASES = [
  "be more careful",
  "be careful",
  "made a mistake",
  "make a mistake",
  "my mistake",
  "my bad",
  "do better",
  "try harder",
  "try to be better",
  "pay more attention",
  "pay attention",
  "won't happen again",
  "will not happen again",
  "be more thorough",
  "double check",
  "human error",
  "oops",
  "sorry",
  "i messed up",
  "i was wrong",
  "something went wrong",
  "did something wrong",
  "it broke",
  "n/a",
  "no reason",
  "don't know",
  "dont know",
];
/** A field that uses a vague phrase needs at least this many words in all. */
const VAGUE_PHRASE_MIN_WORDS = 14;

const FIELDS = [
  {
    key: "what",
    flag: "--what",
    asks: "what happened, concretely (which file, command, claim or task, and its effect)",
  },
  { key: "why", flag: "--why", asks: "why it happened (the cause you found, not an apology)" },
  {
    key: "change",
    flag: "--change",
    asks: "what changes now (a rule, check or step you will follow from now on)",
  },
] as const;

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w));
}

function normalize(text: string): string {
  return words(text.toLowerCase().replace(/[’‘]/g, "'"))
    .join(" ")
    .replace(/[^\p{L}\p{N}' /-]/gu, "");
}

/** Why one field is not acceptable, or undefined when it is. */
export function fieldProblem(text: string | undefined, asks: string): string | undefined {
  const value = text?.trim() ?? "";
  if (!value) return `is required: say ${asks}`;
  if (value.length > MAX_CHARS) return `is ${value.length} characters; keep it under ${MAX_CHARS}`;
  const count = words(value).length;
  if (count < MIN_WORDS)
    return `is too vague: "${value}" has ${count} word${count === 1 ? "" : "s"}, at least ${MIN_WORDS} are needed to say ${asks}`;
  const flat = normalize(value);
  const phrase = VAGUE_PHRASES.find((p) => ` ${flat} `.includes(` ${p} `));
  if (phrase && count < VAGUE_PHRASE_MIN_WORDS)
    return `is too vague: "${phrase}" says nothing specific; say ${asks}`;
  return undefined;
}

/**
 * Checks a penalty and returns it trimmed; throws FLOTILLA_E_PENALTY_INVALID naming every bad field.
 * `knownAgents` (when given) must include the agent.
 */
export function checkPenalty(input: Partial<PenaltyInput>, knownAgents?: readonly string[]): PenaltyInput {
  const problems: string[] = [];
  const agent = typeof input.agent === "string" ? input.agent.trim() : "";
  if (!agent) problems.push("--agent is required: name the agent the penalty is for");
  else if (knownAgents && !knownAgents.includes(agent))
    problems.push(`--agent: no agent named "${agent}" (agents: ${knownAgents.join(", ") || "none"})`);
  const values: Record<string, string> = {};
  for (const field of FIELDS) {
    const raw = input[field.key];
    const text = typeof raw === "string" ? raw : undefined;
    const problem = fieldProblem(text, field.asks);
    if (problem) problems.push(`${field.flag} ${problem}`);
    values[field.key] = text?.trim() ?? "";
  }
  const [what, why, change] = [values.what ?? "", values.why ?? "", values.change ?? ""];
  if (problems.length === 0 && (normalize(what) === normalize(why) || normalize(why) === normalize(change)))
    problems.push("--what, --why and --change repeat each other: each answers a different question");
  if (problems.length > 0) {
    throw new FlotillaError("FLOTILLA_E_PENALTY_INVALID", `penalty not recorded: ${problems.join("; ")}`);
  }
  return { agent, what, why, change, permanent: input.permanent === true };
}
