/**
 * The commits the repository checks look at: those on each repository's protected branches within a
 * bounded window (since the last run, and never less than a day back, so a finding that was pending
 * is seen again), each commit once.
 */
import type { RepoConfig } from "../config/schema.ts";
import type { CheckContext } from "./check.ts";
import { type Commit, commitsOf, type LogOptions, repoShape } from "./git.ts";

/** How far back a run looks at least (milliseconds), and at most how many commits per branch. */
export const SCAN = { lookbackMs: 24 * 60 * 60 * 1000, maxCommits: 500 } as const;

/** Where a run's window starts: the last run or a day back, whichever is earlier. */
export function windowStart(context: Pick<CheckContext, "lastRunAt" | "now">): number {
  const dayBack = context.now - SCAN.lookbackMs;
  return context.lastRunAt === null ? dayBack : Math.min(context.lastRunAt, dayBack);
}

export interface BranchCommit extends Commit {
  branch: string;
}

/** The protected branches' commits since `sinceMs`, newest first, each once (under the first branch that has it). */
export async function protectedCommits(
  repo: RepoConfig,
  sinceMs: number,
  options: Omit<LogOptions, "sinceMs" | "max"> = {},
): Promise<BranchCommit[]> {
  const seen = new Set<string>();
  const commits: BranchCommit[] = [];
  for (const branch of repo.branches) {
    const found = await commitsOf(repo.path, `refs/heads/${branch}`, {
      ...options,
      sinceMs,
      max: SCAN.maxCommits,
    });
    for (const commit of found) {
      if (seen.has(commit.sha)) continue;
      seen.add(commit.sha);
      commits.push({ ...commit, branch });
    }
  }
  return commits.sort((a, b) => b.time - a.time);
}

/** Repositories that exist and are git repositories; the others are push-without-ci's to report. */
export async function usableRepos(repos: readonly RepoConfig[]): Promise<RepoConfig[]> {
  const usable: RepoConfig[] = [];
  for (const repo of repos) {
    const shape = await repoShape(repo.path);
    if (shape.kind === "worktree" || shape.kind === "bare") usable.push(repo);
  }
  return usable;
}
