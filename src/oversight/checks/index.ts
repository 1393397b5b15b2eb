/** Every deterministic check the oversight runner runs, in order. */
import type { Check } from "../check.ts";
import type { CiSourceDeps } from "../ci/ci-source.ts";
import { commitNoiseCheck } from "./commit-noise.ts";
import { handoffCheck } from "./handoff.ts";
import { massFormatCheck } from "./mass-format.ts";
import { createPushWithoutCiCheck } from "./push-without-ci.ts";

/** What checks need beyond their CheckContext: the daemon's state dir and the values of its secret references. */
export type CheckDeps = CiSourceDeps;

/** The checks, built for this daemon. */
export function createChecks(deps: CheckDeps): Check[] {
  return [createPushWithoutCiCheck(deps), commitNoiseCheck, massFormatCheck, handoffCheck];
}
