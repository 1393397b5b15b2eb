/** Every drill by name, in the order `flotilla drill` lists them and bench:drill runs them. */
import { corruptConfig } from "./corrupt-config.ts";
import type { Drill, DrillName } from "./drill.ts";
import { hangAgent } from "./hang-agent.ts";
import { killAgent } from "./kill-agent.ts";
import { killDaemon } from "./kill-daemon.ts";
import { providerOutage } from "./provider-outage.ts";
import { slowStart } from "./slow-start.ts";
import { stopOversight } from "./stop-oversight.ts";

export const DRILLS: Record<DrillName, Drill> = {
  "kill-agent": killAgent,
  "hang-agent": hangAgent,
  "slow-start": slowStart,
  "corrupt-config": corruptConfig,
  "kill-daemon": killDaemon,
  "provider-outage": providerOutage,
  "stop-oversight": stopOversight,
};
