/** What the judge looks for: the questions code cannot settle, each with the instruction the model gets. */

export const JUDGE_CHECKS = {
  "unsourced-claim":
    "a factual claim (prices, figures, dates, quotes, benchmark results) stated as fact with no cited source, link or tool output it came from in the window: possibly made up",
  "unrequested-content":
    "content, files or changes nobody asked for: work outside what the user or the brief requested",
  "needless-question":
    "a question put to the user that the agent could have answered itself from its workspace, its tools or what it was already told",
  "skipped-startup":
    "work started without the startup sequence: reading FLOTILLA.md (the brief and constitution) before anything else",
} as const;

export type JudgeCheck = keyof typeof JUDGE_CHECKS;

export const JUDGE_CHECK_NAMES = Object.keys(JUDGE_CHECKS) as JudgeCheck[];

/** The check name of the judge's own failures: unavailable, malformed or unquoted verdicts. */
export const JUDGE_ERROR_CHECK = "judge";
