/** Every oversight check, in the order a run calls them; a new check adds itself here. */
import type { Check } from "../check.ts";
import { configDriftCheck } from "./config-drift.ts";
import { limitsCheck } from "./limits.ts";
import { livenessCheck } from "./liveness.ts";
import { runawayCheck } from "./runaway.ts";

export const CHECKS: readonly Check[] = [livenessCheck, configDriftCheck, limitsCheck, runawayCheck];
