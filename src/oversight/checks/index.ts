/** Every oversight check, in the order a run calls them; a new check adds itself to one of these lists. */
import type { Check } from "../check.ts";
import type { CiSourceDeps } from "../ci/ci-source.ts";
import { commitNoiseCheck } from "./commit-noise.ts";
import { configDriftCheck } from "./config-drift.ts";
import { doneWithoutProofCheck } from "./done-without-proof.ts";
import { handoffCheck } from "./handoff.ts";
import { createJudgeCheck, type JudgeCheckOptions } from "./judge.ts";
import { limitsCheck } from "./limits.ts";
import { livenessCheck } from "./liveness.ts";
import { massFormatCheck } from "./mass-format.ts";
import { createPushWithoutCiCheck } from "./push-without-ci.ts";
import { runawayCheck } from "./runaway.ts";
import { createWatchdogHeartbeatCheck } from "./watchdog-heartbeat.ts";

/** The checks that read only the ledger and the supervisor's status. */
export const LEDGER_CHECKS: readonly Check[] = [livenessCheck, configDriftCheck, limitsCheck, runawayCheck];

/** What checks need beyond their CheckContext: the daemon's state dir and the values of its secret references. */
export type CheckDeps = CiSourceDeps;

/** The checks of the repositories under repos[], built for this daemon. */
export function createRepoChecks(deps: CheckDeps): Check[] {
  return [createPushWithoutCiCheck(deps), commitNoiseCheck, massFormatCheck, handoffCheck];
}

/** Every check, built for this daemon: the transcripts' last (claims of completion by code, the rest by the judge model). */
export function createChecks(deps: CheckDeps, judge: JudgeCheckOptions = {}): Check[] {
  return [
    ...LEDGER_CHECKS,
    createWatchdogHeartbeatCheck(),
    ...createRepoChecks(deps),
    doneWithoutProofCheck,
    createJudgeCheck(judge),
  ];
}
