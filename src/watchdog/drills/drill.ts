/**
 * What every drill shares: its options, the context it runs in, what an injection leaves behind to watch
 * and undo, and the result a run measures. One module per drill implements `Drill`; run-drill.ts measures.
 */
import type { ApiClient } from "../../api/client.ts";
import type { FlotillaConfig } from "../../config/schema.ts";
import type { Incident, Target } from "../types.ts";

export const DRILL_NAMES = [
  "kill-agent",
  "hang-agent",
  "slow-start",
  "corrupt-config",
  "kill-daemon",
  "provider-outage",
  "stop-oversight",
] as const;

export type DrillName = (typeof DRILL_NAMES)[number];

export interface DrillOptions {
  /** --agent: the agent to act on (default: the first that fits the drill). */
  agent?: string;
  /** --provider: the provider to fail (default: the first on a simulator). */
  provider?: string;
  /** --timeout: how long to wait for the recovery before cleaning up (ms). */
  timeoutMs: number;
  /** --delay: slow-start's stop before the agent may answer (ms). */
  delayMs: number;
}

export interface DrillContext {
  config: FlotillaConfig;
  configFile: string;
  options: DrillOptions;
  /** A client for the daemon that runs now (a drill may replace it: connect again at each call). */
  api(): ApiClient;
  /** A progress line (stderr in the CLI). */
  note(line: string): void;
}

/** What the drill sees at each poll while it waits. */
export interface Progress {
  now: number;
  /** The watchdog's incidents on the target detected since the injection, oldest first. */
  incidents: Incident[];
  /** The drill's own check of the target. */
  healthy: boolean;
  /** When each watchdog run seen since the injection started (epoch ms). */
  watchdogRuns: number[];
}

/** What an injection leaves behind: the target to watch, its own health check, and how to undo it. */
export interface Injection {
  target: Target;
  at: number;
  /** Whether the target works again, by the drill's own check (beside the watchdog's incident). */
  healthy(): Promise<boolean>;
  /** Called at each poll: keeps traffic flowing, lifts a timed stop, clears a fault once escalated. */
  step?(progress: Progress): Promise<void>;
  /** When the drill may stop waiting; default: healthy, and every incident on the target closed and recovered. */
  done?(progress: Progress): boolean;
  /** Extra verdict checks: each string is a reason the drill failed. */
  verdict?(progress: Progress): Promise<string[]>;
  /** Leaves the fleet as the drill found it when it ends early (timeout, Ctrl-C); safe to call twice. */
  cleanup(): Promise<void>;
}

export interface Drill {
  name: DrillName;
  summary: string;
  /** Escalations a correct watchdog raises for this failure (provider-outage: one; the rest: none). */
  escalations: number;
  /** The watchdog must take no action at all (slow-start). */
  noActions?: boolean;
  /** Refuses (FlotillaError naming the field) when the fleet cannot take this drill safely; else arms it. */
  prepare(ctx: DrillContext): Promise<{ inject(): Promise<Injection> }>;
}

export interface DrillResult {
  drill: DrillName;
  target: string;
  injectedAt: number;
  /** Injection → the watchdog's detectedAt for the target (ms); null when it never detected. */
  detectMs: number | null;
  /** Injection → the target healthy again and its incident recovered (ms); null on a timeout. */
  recoverMs: number | null;
  incidents: string[];
  /** Actions the watchdog took on the target: commands it ran (its model's and its own) and config restores. */
  actions: number;
  /** Proposed actions the fix policy refused. */
  refused: number;
  modelCalls: number;
  escalations: number;
  timedOut: boolean;
  pass: boolean;
  reasons: string[];
}
