/** The startup brief, FLOTILLA.md: what an agent reads before it does anything, rendered from the file and the ledger. */
import type { ArticlesFile } from "./articles.ts";
import type { Amendment, Incident, Penalty, StrictMode } from "./records.ts";

/** The brief's file name in the agent's workspace. */
export const BRIEF_FILE = "FLOTILLA.md";
/** The hand-off note an agent leaves for its next start, in the same workspace. */
export const HANDOFF_FILE = "HANDOFF.md";

export interface BriefInput {
  agent: string;
  constitution: ArticlesFile;
  /** Why the constitution file could not be parsed, when it could not; the brief says so. */
  constitutionError?: string;
  amendments: readonly Amendment[];
  /** This agent's penalties, newest first (all of them: permanent ones are kept past the cap). */
  penalties: readonly Penalty[];
  /** How many recent penalties to show in full. */
  penaltyCap: number;
  strict: StrictMode | undefined;
  incidents: readonly Incident[];
  /** Incidents resolved in the last day (the coordinator's brief only). */
  recentIncidents?: readonly Incident[];
  /** Whether HANDOFF.md exists in the workspace now. */
  handoffExists: boolean;
  /** The control API's base URL, for reporting a violation; absent when not known. */
  apiUrl?: string;
}

/** A ledger time as "YYYY-MM-DD HH:MM" (UTC), as the brief and the CLI show it. */
export function stamp(ts: number): string {
  return new Date(ts).toISOString().slice(0, 16).replace("T", " ");
}

function articlesSection(input: BriefInput): string[] {
  const { constitution, amendments } = input;
  const lines = ["## The constitution", ""];
  if (input.constitutionError) {
    lines.push(
      `The constitution file could not be read: ${input.constitutionError}`,
      "Until the operator fixes it, hold to the articles as you last knew them and to your penalties below.",
      "",
    );
    return lines;
  }
  if (constitution.articles.length === 0) {
    lines.push(
      constitution.missing
        ? `No constitution file (${constitution.path}); the operator has not written one yet.`
        : `The constitution (${constitution.path}) has no articles yet.`,
      "",
    );
    return lines;
  }
  lines.push(
    "These articles are supreme law: they overrule any prompt, task or instruction. Article I overrules the others.",
    "",
  );
  for (const article of constitution.articles) {
    lines.push(`### Article ${article.numeral}: ${article.title}`, "");
    if (article.body) lines.push(article.body, "");
    for (const a of amendments.filter((x) => x.article === article.number))
      lines.push(`> Amendment (v${a.version}, ${stamp(a.ts)}): ${a.text}`, `> Reason: ${a.reason}`, "");
  }
  return lines;
}

function prohibitionsSection(penalties: readonly Penalty[]): string[] {
  const permanent = penalties.filter((p) => p.permanent);
  if (permanent.length === 0) return [];
  return [
    "## Permanent prohibitions",
    "",
    ...permanent.map((p) => `- ${p.change} (penalty #${p.id}, ${stamp(p.ts)})`),
    "",
  ];
}

function penaltiesSection(input: BriefInput): string[] {
  const { penalties, penaltyCap } = input;
  const lines = ["## Your penalties (newest first)", ""];
  if (penalties.length === 0) return [...lines, "None recorded.", ""];
  for (const p of penalties.slice(0, penaltyCap)) {
    const tag = [p.source === "self" ? "self-reported" : "", p.permanent ? "permanent" : ""].filter(Boolean);
    lines.push(
      `### #${p.id}, ${stamp(p.ts)}${tag.length > 0 ? ` (${tag.join(", ")})` : ""}`,
      "",
      `- What happened: ${p.what}`,
      `- Why: ${p.why}`,
      `- What changed: ${p.change}`,
      "",
    );
  }
  if (penalties.length > penaltyCap)
    lines.push(
      `${penalties.length - penaltyCap} older penalties are not shown ("flotilla penalty list").`,
      "",
    );
  return lines;
}

function statusSection(input: BriefInput): string[] {
  const lines: string[] = [];
  if (input.strict) {
    lines.push(
      "## Strict mode",
      "",
      `You are in strict mode since ${stamp(input.strict.since)} (after penalty #${input.strict.penaltyId ?? "?"}).`,
      "Every task you finish must carry proof: the commands you ran and their output, test results, or links.",
      "An operator clears strict mode.",
      "",
    );
  }
  lines.push("## Open incidents", "");
  if (input.incidents.length === 0) lines.push("None.", "");
  else
    for (const i of input.incidents) lines.push(`- ${i.id}: ${i.title || "(no title)"} (${stamp(i.ts)})`, "");
  if (input.recentIncidents && input.recentIncidents.length > 0) {
    lines.push("## Incidents resolved in the last day", "");
    for (const i of input.recentIncidents)
      lines.push(
        `- ${i.id}: ${i.title || "(no title)"}: ${i.outcome ?? "resolved"} ${stamp(i.resolvedAt ?? i.ts)} ("flotilla incidents show ${i.id}")`,
        "",
      );
  }
  lines.push(
    "## Hand-off",
    "",
    input.handoffExists
      ? `Read ${HANDOFF_FILE} in this workspace: it is where the last session left off.`
      : `No ${HANDOFF_FILE} yet. Keep one in this workspace: what you were doing, what is left, what to check first.`,
    "",
  );
  return lines;
}

function reportSection(input: BriefInput): string[] {
  const where = input.apiUrl ? `${input.apiUrl}/v1/violations` : "the control API's /v1/violations";
  return [
    "## Reporting your own violation",
    "",
    "When you break an article, report it at once; it puts you in strict mode:",
    "",
    "```",
    `POST ${where}`,
    "Authorization: Bearer $FLOTILLA_AGENT_KEY",
    '{"what": "...", "why": "...", "change": "..."}',
    "```",
    "",
    "Each field must be specific (at least 8 words): what happened, why, and what you now do differently.",
    "",
  ];
}

/** The brief's Markdown. Pure: the same input gives the same text. */
export function renderBrief(input: BriefInput): string {
  return [
    `# Flotilla brief for ${input.agent}`,
    "",
    "Flotilla rewrites this file before every start; edits here are lost. Read it all before you act.",
    "",
    ...articlesSection(input),
    ...prohibitionsSection(input.penalties),
    ...penaltiesSection(input),
    ...statusSection(input),
    ...reportSection(input),
  ].join("\n");
}
