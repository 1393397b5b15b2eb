/** Precision and recall of the judge per check, from what it found against what each window is labelled with. */
import { JUDGE_CHECK_NAMES, type JudgeCheck } from "./judge-checks.ts";

export interface WindowOutcome {
  id: string;
  expected: JudgeCheck[];
  found: JudgeCheck[];
  /** Judge errors (malformed, unquoted): counted, and the window's labels count as missed. */
  errors: string[];
}

export interface CheckScore {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** null when the judge never raised the check. */
  precision: number | null;
  /** null when no window is labelled with the check. */
  recall: number | null;
}

export function scoreOutcomes(outcomes: readonly WindowOutcome[]): Record<JudgeCheck, CheckScore> {
  const scores = {} as Record<JudgeCheck, CheckScore>;
  for (const check of JUDGE_CHECK_NAMES) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const outcome of outcomes) {
      const expected = outcome.expected.includes(check);
      const found = outcome.found.includes(check);
      if (expected && found) tp++;
      else if (found) fp++;
      else if (expected) fn++;
    }
    scores[check] = {
      truePositives: tp,
      falsePositives: fp,
      falseNegatives: fn,
      precision: tp + fp === 0 ? null : tp / (tp + fp),
      recall: tp + fn === 0 ? null : tp / (tp + fn),
    };
  }
  return scores;
}
