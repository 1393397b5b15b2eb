/**
 * What a change looks like, without judging who made it: files changed only in whitespace or layout, and
 * runs of near-identical small commits. Shared by the checks (after the fact) and the gate (before a push).
 */
import type { Commit, NumStat } from "./git.ts";

/** Files whose changes all vanish when whitespace and blank lines are ignored. */
export function formatOnlyFiles(plain: NumStat, ignoringSpace: NumStat): string[] {
  const files: string[] = [];
  for (const [file, lines] of plain) {
    if (lines.added + lines.deleted === 0) continue;
    const real = ignoringSpace.get(file);
    if (!real || real.added + real.deleted === 0) files.push(file);
  }
  return files;
}

/** A commit counts toward noise only when it is this small (lines added and deleted). */
export const SMALL_COMMIT_LINES = 40;

/** Subjects whose word sets overlap at least this much (Jaccard) are near-identical. */
const SIMILAR = 0.6;

/** The words of a subject, without numbers, hashes and punctuation, which vary between noise commits. */
function words(subject: string): Set<string> {
  return new Set(
    subject
      .toLowerCase()
      .replace(/\b[0-9a-f]{7,40}\b/g, " ")
      .replace(/[^a-z]+/g, " ")
      .split(" ")
      .filter((word) => word.length > 1),
  );
}

function similarity(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const word of a) if (b.has(word)) shared += 1;
  return shared / (a.size + b.size - shared);
}

export interface NoiseRun {
  /** The run's commits, oldest first. */
  commits: Commit[];
  /** How many of them fall inside one window (the densest). */
  inWindow: number;
}

/**
 * Groups small commits by near-identical subjects and returns each group that has at least `threshold`
 * commits inside one `windowMs`. `lines` gives a commit's changed line count.
 */
export function noiseRuns(
  commits: Commit[],
  lines: (commit: Commit) => number,
  windowMs: number,
  threshold: number,
): NoiseRun[] {
  const groups: Array<{ words: Set<string>; commits: Commit[] }> = [];
  const oldestFirst = [...commits].sort((a, b) => a.time - b.time);
  for (const commit of oldestFirst) {
    if (lines(commit) > SMALL_COMMIT_LINES) continue;
    const own = words(commit.subject);
    const group = groups.find((g) => similarity(g.words, own) >= SIMILAR);
    if (group) group.commits.push(commit);
    else groups.push({ words: own, commits: [commit] });
  }
  const runs: NoiseRun[] = [];
  for (const group of groups) {
    let densest = 0;
    let start = 0;
    for (let end = 0; end < group.commits.length; end++) {
      const endTime = group.commits[end]?.time ?? 0;
      while ((group.commits[start]?.time ?? 0) < endTime - windowMs) start += 1;
      densest = Math.max(densest, end - start + 1);
    }
    if (densest >= threshold) runs.push({ commits: group.commits, inWindow: densest });
  }
  return runs;
}

/** A short hash for evidence. */
export const short = (sha: string): string => sha.slice(0, 10);
