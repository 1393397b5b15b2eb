/**
 * The penalty a finding drafts: what happened (the evidence), why it matters (the article it breaks, by
 * its title in the fleet's constitution), what changes (the suggestion). Only a finding about one agent
 * that names an article drafts one; it passes the constitution's penalty rules as written.
 */
import { readArticles } from "../constitution/articles.ts";
import type { FindingDraft } from "./finding.ts";
import type { PenaltyDraft } from "./findings-store.ts";

/** Longest quote of the evidence in a draft (characters), under the penalty rules' limit. */
const MAX_QUOTE = 1200;

/** The article's heading ("Article V: Proof, or it did not happen"), or just "Article V" when the file lacks it. */
export function articleHeading(articlesPath: string, article: string): string {
  try {
    const found = readArticles(articlesPath).articles.find(
      (a) => a.numeral === article.toUpperCase() || String(a.number) === article,
    );
    return found ? `Article ${found.numeral}: ${found.title}` : `Article ${article}`;
  } catch {
    return `Article ${article}`;
  }
}

/** Drafts the penalty for a finding, or null when it is about no single agent or names no article. */
export function draftPenalty(draft: FindingDraft, articlesPath: string): PenaltyDraft | null {
  if (!draft.agent || !draft.article) return null;
  const heading = articleHeading(articlesPath, draft.article);
  return {
    what: `Oversight's ${draft.check} check found this about ${draft.agent}: ${draft.evidence.slice(0, MAX_QUOTE)}`,
    why: `It breaks ${heading} of the fleet's constitution, which is in the agent's brief and binds it on every task.`,
    change: `From now on the agent must follow this rule: ${draft.suggestion} Oversight checks it again on every run.`,
  };
}
