/**
 * The gate's rules, in the order a push meets them: the cheap ones over what is pushed (fallback
 * commits without review, too many files, mass reformatting, noise), then CI and the local tests,
 * which run commands. The first refusal wins; each says one reason and how to comply.
 */
import { formatOnlyFiles, noiseRuns, short } from "../change-shape.ts";
import { changedLines } from "../checks/commit-noise.ts";
import type { CiResult } from "../ci/ci-result.ts";
import type { GateContext } from "./gate-context.ts";
import type { PushContents } from "./push-range.ts";

export interface Refusal {
  rule: "unreviewed-fallback" | "max-files" | "mass-format" | "noise" | "ci" | "tests";
  reason: string;
  comply: string;
}

const hasTrailer = (message: string, name: string, value?: RegExp): boolean =>
  message.split("\n").some((line) => {
    const match = new RegExp(`^${name}:\\s*(.+)$`, "i").exec(line.trim());
    return match !== null && (value === undefined || value.test(match[1] ?? ""));
  });

/** The rules that only read what is pushed. */
export function contentRefusal(push: PushContents, context: GateContext): Refusal | null {
  const { limits } = context;
  const unreviewed = push.commits.find(
    (c) => hasTrailer(c.message, "Flotilla-Tier", /^fallback$/i) && !hasTrailer(c.message, "Reviewed-by"),
  );
  if (unreviewed)
    return {
      rule: "unreviewed-fallback",
      reason: `commit ${short(unreviewed.sha)} "${unreviewed.subject}" was written on a fallback model (Flotilla-Tier: fallback) and has no Reviewed-by: trailer`,
      comply: `have someone review it, then add the trailer: git commit --amend --trailer "Reviewed-by: NAME <EMAIL>" (git rebase -i for an older commit)`,
    };
  const files = [...push.plain.keys()];
  if (files.length > limits.maxFiles)
    return {
      rule: "max-files",
      reason: `the push touches ${files.length} files, over the limit of ${limits.maxFiles}`,
      comply: `split it into pushes of at most ${limits.maxFiles} files, or ask the operator to raise repos[].gate.maxFiles for this repository`,
    };
  const formatOnly = formatOnlyFiles(push.plain, push.ignoringSpace);
  if (formatOnly.length >= limits.formatFiles)
    return {
      rule: "mass-format",
      reason: `${formatOnly.length} files change in whitespace or layout only (limit ${limits.formatFiles}), such as ${formatOnly.slice(0, 3).join(", ")}`,
      comply:
        "revert the reformatting (git diff --ignore-all-space shows what really changed) and push only real changes",
    };
  const noise = noiseRuns(push.commits, changedLines, limits.noiseWindow, limits.noiseCommits)[0];
  if (noise)
    return {
      rule: "noise",
      reason: `${noise.commits.length} near-identical small commits (limit ${limits.noiseCommits}), such as ${short(noise.commits[0]?.sha ?? "")} "${noise.commits[0]?.subject ?? ""}"`,
      comply: "squash them into commits that each say what changed and why (git rebase -i), then push",
    };
  return null;
}

/** A refusal for CI that is not green on a commit pushed to a protected branch. */
export function ciRefusal(tip: string, branch: string, result: CiResult): Refusal | null {
  if (result.state === "success") return null;
  return {
    rule: "ci",
    reason: `CI for ${short(tip)}, pushed to the protected branch ${branch}, is ${result.state === "none" ? "missing" : result.state}: ${result.detail}`,
    comply: `push to a feature branch first, wait for green CI on ${short(tip)}, then push it to ${branch}`,
  };
}

/** A refusal for a failing local test command. */
export function testRefusal(command: string[], detail: string): Refusal {
  return {
    rule: "tests",
    reason: `the repository's test command (${command.join(" ")}) fails on the pushed commit: ${detail}`,
    comply: "fix the failing tests (run the command in your work tree), commit, and push again",
  };
}
