/**
 * mass-format: a commit on a protected branch that changes at least oversight.thresholds.formatFiles
 * files in whitespace or layout only (`git diff --ignore-all-space` against the plain diff).
 */
import type { Check } from "../check.ts";
import { formatOnlyFiles, short } from "../change-shape.ts";
import { protectedCommits, usableRepos, windowStart } from "../repo-scan.ts";

export const MASS_FORMAT = "mass-format";

/** Format-only files quoted in evidence at most. */
const QUOTED_FILES = 5;

export const massFormatCheck: Check = {
  name: MASS_FORMAT,
  async run(context) {
    const findings = [];
    const since = windowStart(context);
    for (const repo of await usableRepos(context.config.repos)) {
      const threshold = repo.gate.formatFiles ?? context.config.oversight.thresholds.formatFiles;
      const plain = await protectedCommits(repo, since, { numstat: true });
      const ignoring = new Map(
        (await protectedCommits(repo, since, { numstat: true, ignoreSpace: true })).map((c) => [
          c.sha,
          c.files,
        ]),
      );
      for (const commit of plain) {
        const files = formatOnlyFiles(commit.files, ignoring.get(commit.sha) ?? new Map());
        if (files.length < threshold) continue;
        const quoted = files.slice(0, QUOTED_FILES).join(", ");
        findings.push({
          check: MASS_FORMAT,
          severity: "warning" as const,
          agent: null,
          article: null,
          evidence: `commit ${short(commit.sha)} "${commit.subject}" on ${commit.branch} of ${repo.path} by ${commit.author} changes ${files.length} of ${commit.files.size} files in whitespace or layout only (threshold ${threshold}): ${quoted}${files.length > QUOTED_FILES ? ", …" : ""}`,
          suggestion:
            "revert the reformat; format only the lines you change, or land a reformat alone with the operator's agreement",
          key: `format:${commit.sha}`,
        });
      }
    }
    return findings;
  },
};
