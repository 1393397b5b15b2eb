/**
 * Policy injection and the dispatch gate: the exact text sent for (agent, scope, prompt), and the
 * checks the dispatcher runs before it sends anything (required constitution, strict mode).
 */
import type { ConstitutionConfig, PolicyScope } from "../config/schema.ts";
import { FlotillaError } from "../errors.ts";
import type { ArticlesFile } from "./articles.ts";
import { BRIEF_FILE } from "./brief.ts";

/** What the dispatcher needs to know about one agent and the constitution. */
export interface DispatchContext {
  constitution: Pick<ConstitutionConfig, "required" | "policies">;
  articles: ArticlesFile;
  agent: string;
  /** The agent is in strict mode: the work must come back with proof. */
  strict: boolean;
}

/** What the dispatcher sends, and what it must demand back. */
export interface DispatchPlan {
  /** The exact text sent to the agent: the applicable rules, then the prompt. */
  text: string;
  /** Ids of the policies that were added, in order. */
  policies: string[];
  /** The reply must carry proof (the agent is in strict mode); the dispatcher rejects a bare "done". */
  proofRequired: boolean;
}

/** The policies that apply to an agent's work of one scope, as [id, text] pairs in config order. */
export function applicablePolicies(
  constitution: Pick<ConstitutionConfig, "policies">,
  agent: string,
  scope: PolicyScope,
): Array<{ id: string; text: string }> {
  return constitution.policies
    .map((p, index) => ({ ...p, id: p.id ?? `policy-${index + 1}` }))
    .filter((p) => p.scope.includes(scope) && (!p.agents || p.agents.includes(agent)))
    .map(({ id, text }) => ({ id, text: text.trim() }));
}

/**
 * Builds the text for one dispatch. Throws FLOTILLA_E_CONSTITUTION_REQUIRED when the config says the
 * constitution is required and it is missing or has no articles: the dispatch must not happen. With
 * nothing to add, the prompt goes out unchanged.
 */
export function planDispatch(context: DispatchContext, scope: PolicyScope, prompt: string): DispatchPlan {
  const { constitution, articles, agent, strict } = context;
  if (constitution.required && articles.articles.length === 0) {
    throw new FlotillaError(
      "FLOTILLA_E_CONSTITUTION_REQUIRED",
      `${articles.path}: ${articles.missing ? "missing" : "has no articles"}, and constitution.required is true, so no work is dispatched; write the articles (numbered "## Article I: …" headings) or set required: false`,
    );
  }
  const policies = applicablePolicies(constitution, agent, scope);
  const head: string[] = [];
  if (policies.length > 0) {
    head.push(
      `Rules for this ${scope} (from Flotilla; the constitution in ${BRIEF_FILE} still overrides them):`,
    );
    for (const p of policies) head.push(`- [${p.id}] ${p.text}`);
  }
  if (strict) {
    if (head.length > 0) head.push("");
    head.push(
      "You are in strict mode: finish with proof (commands run and their output, test results, links). Work without proof is rejected.",
    );
  }
  const text = head.length === 0 ? prompt : `${head.join("\n")}\n\n---\n\n${prompt}`;
  return { text, policies: policies.map((p) => p.id), proofRequired: strict };
}
