/**
 * The watchdog part of flotilla.yaml: how often the independent healer probes the fleet, when it acts,
 * which model diagnoses, and what its fix policy lets run. See docs/watchdog.md.
 */
import { z } from "zod";
import { duration } from "./fields.ts";

const count = z.number().int().positive();

/** An operator-listed command the fix policy also allows: its program and a pattern per argument. */
const extraSchema = z
  .strictObject({
    program: z
      .string()
      .startsWith("/", { message: 'must be an absolute path such as "/usr/local/bin/fleet-fix"' })
      .describe("Absolute path of the program"),
    args: z
      .array(z.string().min(1))
      .prefault([])
      .describe(
        "One regular expression per argument, matched against the whole argument; the action must have exactly this many",
      ),
  })
  .describe("A command the fix policy allows besides Flotilla's own");

export const watchdogSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .prefault(true)
      .describe("Run the watchdog (embedded: `flotilla up` starts it detached)"),
    embedded: z
      .boolean()
      .prefault(true)
      .describe("`flotilla up` starts `flotilla watchdog` detached; false when a systemd timer runs it"),
    every: duration("15m").prefault("15m").describe("How often the watchdog probes the fleet"),
    failuresBeforeAction: count
      .prefault(3)
      .describe("Consecutive failed probes of a target before the watchdog acts on it"),
    probeSpacing: duration("10s").prefault("10s").describe("Time between the probes of a failing target"),
    probeTimeout: duration("5s").prefault("5s").describe("How long the first probe of a target may take"),
    slowTimeout: duration("30s")
      .prefault("30s")
      .describe("How long the re-probe that tells a slow target from a dead one may take"),
    daemonGrace: duration("60s")
      .prefault("60s")
      .describe("How long a starting daemon (and its API) may take before it counts as down"),
    maxActionsPerHour: count
      .prefault(3)
      .describe("Recoveries per target per hour; one more escalates once and stops until acknowledged"),
    logLines: count.prefault(50).describe("Last log lines of a target the diagnosis reads"),
    model: z
      .string()
      .optional()
      .describe(
        "Logical model (a key of models) that diagnoses; the watchdog walks its chain straight at the providers, never through the gateway. None: the deterministic path only",
      ),
    diagnosisTimeout: duration("30s").prefault("30s").describe("How long one diagnosis call may take"),
    reuseDiagnosisFor: duration("1h")
      .prefault("1h")
      .describe("Identical symptoms within this time reuse the last diagnosis instead of calling the model"),
    maxActions: count.prefault(5).describe("Actions one diagnosis may propose; more and all are refused"),
    actionTimeout: duration("60s")
      .prefault("60s")
      .describe("How long one action may run before it is killed"),
    extras: z
      .array(extraSchema)
      .prefault([])
      .describe("Commands the fix policy allows besides Flotilla's own"),
    alerts: z
      .array(z.string())
      .optional()
      .describe("Ids of the alert channels escalations go to (default: every channel under alerts)"),
  })
  .describe("The watchdog: an independent process that probes, diagnoses and recovers (docs/watchdog.md)");
