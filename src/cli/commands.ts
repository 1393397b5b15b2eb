/** The list of CLI commands, in the order help shows them. */
import { restartCommand, startCommand, stopCommand } from "./agent-control.ts";
import { backupCommand, restoreCommand } from "./backup.ts";
import type { Command } from "./command.ts";
import { constitutionCommand } from "./constitution.ts";
import { configCommand } from "./config.ts";
import { demoCommand } from "./demo.ts";
import { downCommand } from "./down.ts";
import { drillCommand } from "./drill.ts";
import { eventsCommand } from "./events.ts";
import { gateCommand } from "./gate.ts";
import { gatewayCommand } from "./gateway.ts";
import { incidentsCommand } from "./incidents.ts";
import { initCommand } from "./init.ts";
import { keyCommand } from "./key.ts";
import { logsCommand } from "./logs.ts";
import { oversightCommand } from "./oversight.ts";
import { penaltyCommand } from "./penalty.ts";
import { policyCommand } from "./policy.ts";
import { runAgentCommand } from "./run-agent.ts";
import { schemaCommand } from "./schema.ts";
import { simCommand } from "./sim.ts";
import { statusCommand } from "./status.ts";
import { describeCommand } from "./describe.ts";
import { systemdCommand } from "./systemd.ts";
import { upCommand } from "./up.ts";
import { validateCommand } from "./validate.ts";
import { watchdogCommand } from "./watchdog.ts";

export const COMMANDS: Command[] = [
  upCommand,
  downCommand,
  statusCommand,
  describeCommand,
  startCommand,
  stopCommand,
  restartCommand,
  logsCommand,
  eventsCommand,
  initCommand,
  validateCommand,
  schemaCommand,
  configCommand,
  backupCommand,
  restoreCommand,
  systemdCommand,
  keyCommand,
  constitutionCommand,
  penaltyCommand,
  oversightCommand,
  incidentsCommand,
  gateCommand,
  policyCommand,
  watchdogCommand,
  drillCommand,
  gatewayCommand,
  simCommand,
  runAgentCommand,
  demoCommand,
];
