/**
 * Claims of completion in transcript lines, found by pattern: a sentence by the agent that says the
 * work is done, completed, finished, shipped or fixed, or that all tests pass. Questions, negations,
 * conditions and plans ("once it is done", "not finished", "will ship") are not claims.
 */

/** Roles whose lines are the agent's own words; plain-text lines (no role) count too. */
const AGENT_ROLES = /^(assistant|agent|model):\s*/i;
const OTHER_ROLE = /^[a-z][\w-]{0,20}:\s/i;

const CLAIMS = [
  // "Done.", "All done!", "Everything is done", "Task complete."
  /^(?:(?:all|it'?s|everything(?:'s| is)?|the task is|task(?: is)?|work(?: is)?|this is)\s+)?(?:done|complete|completed|finished)\b/i,
  // "Shipped.", "Fixed the login bug", "Deployed version 2.3"
  /^(?:shipped|fixed|deployed|implemented)(?:[.!]?$|\s+(?:it|the|a|an|this|that|both|all|version|v?\d))/i,
  // "I've finished the report", "We have shipped it", "I fixed the bug"
  /\b(?:i|we)(?:'ve| have)?\s+(?:now\s+|just\s+|already\s+)?(?:done|completed|finished|shipped|fixed|deployed|implemented|resolved)\b/i,
  // "The fix is done", "It has been shipped", "The bug is now fixed"
  /\b(?:is|are|has been|have been)\s+(?:now\s+)?(?:done|complete|completed|finished|shipped|fixed|deployed|resolved)\b/i,
  // "All tests pass", "all 42 tests are passing", "tests are green"
  /\ball\s+(?:the\s+)?(?:\d+\s+)?tests\s+(?:now\s+)?(?:pass|passed|are passing|are green)\b/i,
  /\btests\s+(?:are\s+)?(?:all\s+)?(?:green|passing)\b/i,
];

/** Words that make a sentence a plan, a condition or a denial rather than a claim. */
const NOT_A_CLAIM =
  /\b(?:not|no|never|n't|cannot|if|once|when|until|unless|after|before|will|would|should|could|might|going to|need to|needs to|have to|has to|let me know|yet|almost|nearly|partially|half|nothing)\b|n't\b/i;

/** The agent's sentences in a transcript line, or none when the line is someone else's. */
function agentSentences(line: string): string[] {
  let text = line;
  const role = AGENT_ROLES.exec(line);
  if (role) text = line.slice(role[0].length);
  else if (OTHER_ROLE.test(line)) return [];
  return text
    .split(/(?<=[.!?])\s+|\n/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Whether one sentence claims completion. */
export function isCompletionClaim(sentence: string): boolean {
  if (sentence.endsWith("?")) return false;
  if (!CLAIMS.some((pattern) => pattern.test(sentence))) return false;
  return !NOT_A_CLAIM.test(sentence);
}

/** The completion claims in a transcript window, as the sentences said (each at most once). */
export function completionClaims(transcript: string): string[] {
  const found = new Set<string>();
  for (const line of transcript.split("\n"))
    for (const sentence of agentSentences(line)) if (isCompletionClaim(sentence)) found.add(sentence);
  return [...found];
}

/** Paths a claim names (`src/pricing.ts`, `./report.md`, `docs/`): what it says it produced. */
export function namedPaths(claim: string): string[] {
  const matches = claim.match(/(?:~?\.{0,2}\/)?[\w@.-]+(?:\/[\w@.-]+)*\/?/g) ?? [];
  return matches
    .map((m) => m.replace(/[.,;:]+$/, ""))
    .filter((m) => m.includes("/") || /\.[a-z0-9]{1,8}$/i.test(m))
    .filter((m) => !/^\d+(\.\d+)*$/.test(m));
}
