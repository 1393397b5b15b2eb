/**
 * handoff: HANDOFF.md in each repository's work tree and in each agent's workspace that is a git
 * repository: it exists, is not a stub, was updated after the latest commit and the latest finished
 * task (less oversight.thresholds.handoffStaleAfter), and names recent work (a recent commit's
 * subject or hash, or a path it changed).
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Check, CheckContext } from "../check.ts";
import { short } from "../change-shape.ts";
import type { FindingDraft } from "../finding.ts";
import { type Commit, commitsOf, git, repoShape } from "../git.ts";

export const HANDOFF = "handoff";
export const HANDOFF_FILE = "HANDOFF.md";

/** Fewer characters than this, once headings, blank lines and placeholders are left out, is a stub. */
const STUB_CHARS = 80;
/** How many of the latest commits HANDOFF.md should name at least one of. */
const RECENT_COMMITS = 5;
/** Ledger event of a finished task (written by dispatch; until it exists, commits alone decide). */
const TASK_FINISHED = "task.finished";

interface Place {
  path: string;
  agent: string | null;
  where: string;
}

/** The text that is left once headings, placeholders and blank lines are taken out. */
function substance(text: string): string {
  return text
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .join(" ")
    .replace(/\b(todo|tbd|tba|wip|n\/a|none yet|lorem ipsum|placeholder|fill (this )?in)\b/gi, "")
    .replace(/[\s\-*_>`|.:]+/g, " ")
    .trim();
}

/** When HANDOFF.md was last written: its last commit when the copy on disk is that one, else the file's mtime. */
async function updatedAt(path: string, file: string): Promise<number> {
  const dirty = (await git(path, ["status", "--porcelain", "--", HANDOFF_FILE])).trim() !== "";
  if (!dirty) {
    const committed = (await git(path, ["log", "-1", "--format=%ct", "--", HANDOFF_FILE])).trim();
    if (committed) return Number(committed) * 1000;
  }
  return statSync(file).mtimeMs;
}

function namesRecentWork(text: string, commits: Commit[]): boolean {
  const lower = text.toLowerCase();
  return commits.some(
    (commit) =>
      lower.includes(commit.sha.slice(0, 7)) ||
      (commit.subject.length >= 8 && lower.includes(commit.subject.toLowerCase())) ||
      [...commit.files.keys()].some((file) => file !== HANDOFF_FILE && lower.includes(file.toLowerCase())),
  );
}

function latestFinishedTask(context: CheckContext, agent: string | null): number | null {
  const events = context.ledger.query({ kind: TASK_FINISHED, limit: 1, ...(agent ? { agent } : {}) });
  return events.at(-1)?.ts ?? null;
}

async function checkPlace(place: Place, context: CheckContext): Promise<FindingDraft | null> {
  const finding = (evidence: string, suggestion: string, severity: FindingDraft["severity"] = "warning") => ({
    check: HANDOFF,
    severity,
    agent: place.agent,
    article: null,
    evidence,
    suggestion,
    key: `handoff:${place.path}`,
  });
  const file = join(place.path, HANDOFF_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return finding(
      `${place.where} has no ${HANDOFF_FILE}`,
      `write ${HANDOFF_FILE} at the top of the work tree: what was done (commits), what is left, what the next one needs to know`,
    );
  }
  if (substance(text).length < STUB_CHARS)
    return finding(
      `${place.where}: ${HANDOFF_FILE} is a stub (${JSON.stringify(text.trim().slice(0, 120))})`,
      `fill ${HANDOFF_FILE} in: what was done, with commit hashes or paths, what is left and what to watch out for`,
    );
  const commits = await commitsOf(place.path, "HEAD", { numstat: true, max: RECENT_COMMITS });
  const latest = commits[0];
  if (!latest) return null;
  const updated = await updatedAt(place.path, file);
  const stale = context.config.oversight.thresholds.handoffStaleAfter;
  const task = latestFinishedTask(context, place.agent);
  const taskNote =
    task === null ? " (no finished-task events in the ledger yet: judged against commits only)" : "";
  const mustFollow = Math.max(latest.time, task ?? 0);
  if (updated + stale < mustFollow) {
    const after =
      task !== null && task > latest.time
        ? `the task finished at ${new Date(task).toISOString()}`
        : `commit ${short(latest.sha)} "${latest.subject}" (${new Date(latest.time).toISOString()})`;
    return finding(
      `${place.where}: ${HANDOFF_FILE} was last updated ${new Date(updated).toISOString()}, before ${after}${taskNote}`,
      `update ${HANDOFF_FILE} with the work since then before starting anything else`,
    );
  }
  if (!namesRecentWork(text, commits))
    return finding(
      `${place.where}: ${HANDOFF_FILE} names none of the last ${commits.length} commits (latest ${short(latest.sha)} "${latest.subject}") by hash, subject or changed path${taskNote}`,
      `say in ${HANDOFF_FILE} what the recent commits did, naming them by hash or the paths they changed`,
      "info",
    );
  return null;
}

export const handoffCheck: Check = {
  name: HANDOFF,
  async run(context) {
    const places: Place[] = [];
    const seen = new Set<string>();
    for (const [index, repo] of context.config.repos.entries())
      places.push({ path: repo.path, agent: null, where: `repos.${index} (${repo.path})` });
    for (const agent of context.config.agents)
      places.push({
        path: agent.workspace,
        agent: agent.name,
        where: `${agent.name}'s workspace (${agent.workspace})`,
      });
    const findings: FindingDraft[] = [];
    for (const place of places) {
      if (seen.has(place.path)) continue;
      seen.add(place.path);
      // Only work trees have a HANDOFF.md; a bare repository or a workspace that is not git has none to check.
      if ((await repoShape(place.path)).kind !== "worktree") continue;
      const found = await checkPlace(place, context);
      if (found) findings.push(found);
    }
    return findings;
  },
};
