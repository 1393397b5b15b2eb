/** commit-noise: many near-identical small commits on a protected branch within oversight.thresholds.noiseWindow. */
import type { Check } from "../check.ts";
import { noiseRuns, short } from "../change-shape.ts";
import type { Commit } from "../git.ts";
import { protectedCommits, usableRepos, windowStart } from "../repo-scan.ts";

export const COMMIT_NOISE = "commit-noise";

export const changedLines = (commit: Commit): number => {
  let lines = 0;
  for (const stat of commit.files.values()) lines += stat.added + stat.deleted;
  return lines;
};

export const commitNoiseCheck: Check = {
  name: COMMIT_NOISE,
  async run(context) {
    const { noiseCommits, noiseWindow } = context.config.oversight.thresholds;
    const since = Math.min(windowStart(context), context.now - noiseWindow);
    const findings = [];
    for (const repo of await usableRepos(context.config.repos)) {
      const threshold = repo.gate.noiseCommits ?? noiseCommits;
      const commits = await protectedCommits(repo, since, { numstat: true });
      for (const run of noiseRuns(commits, changedLines, noiseWindow, threshold)) {
        const first = run.commits[0];
        const last = run.commits.at(-1);
        if (!first || !last) continue;
        const authors = [...new Set(run.commits.map((c) => c.author))].join(", ");
        findings.push({
          check: COMMIT_NOISE,
          severity: "warning" as const,
          agent: null,
          article: null,
          evidence: `${run.commits.length} near-identical small commits on ${repo.path} (${run.inWindow} within ${noiseWindow / 60_000} min; threshold ${threshold}) by ${authors}, from ${short(first.sha)} "${first.subject}" to ${short(last.sha)} "${last.subject}"`,
          suggestion:
            "stop committing in a loop: squash these into commits that each say what changed and why",
          key: `noise:${repo.path}:${first.sha}`,
        });
      }
    }
    return findings;
  },
};
