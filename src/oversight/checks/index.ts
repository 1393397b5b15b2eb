/** Every check an oversight run runs, in order (the runner records a check's throw as a finding). */
import type { Check } from "../check.ts";
import { doneWithoutProofCheck } from "./done-without-proof.ts";
import { judgeCheck } from "./judge.ts";

export const CHECKS: readonly Check[] = [doneWithoutProofCheck, judgeCheck];
