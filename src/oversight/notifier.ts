/**
 * The one hook between the oversight runner and the outside world: at the end of every run the runner
 * calls notify() with the findings still open or acknowledged; open ones go to the alert channels, critical
 * ones into the coordinator's session. State lives in <stateDir>/alerts.db, so nothing is lost on a restart.
 */
import { join } from "node:path";
import { alertOf } from "../alerts/alert.ts";
import { openAlertStore } from "../alerts/alert-store.ts";
import { channelSender } from "../alerts/channels/channel.ts";
import { createDispatcher, type DispatchSettings } from "../alerts/dispatcher.ts";
import type { AlertChannelConfig, FlotillaConfig } from "../config/schema.ts";
import { virtualKey } from "../gateway/virtual-keys.ts";
import type { Store } from "../ledger/store.ts";
import type { Finding, FindingState } from "./finding.ts";
import { createInjector, type InjectReport } from "./inject/injector.ts";

export interface NotifierOptions {
  /** The running config (a config apply replaces it). */
  config: () => FlotillaConfig;
  stateDir: string;
  ledger: Store;
  /** Values of the { env } secret references, as the CLI handed them to the daemon (wiring.secrets). */
  secrets: NodeJS.ProcessEnv;
  /** The state of a finding a run did not report, so an injection stops once it is acknowledged or resolved. */
  findingState?: (id: string) => FindingState | undefined;
  /** Where the stdout channel writes (default: the process's stdout). */
  writeStdout?: (text: string) => void;
  /** An agent's current virtual key (default: derived from the state dir). */
  agentKey?: (agent: string) => string;
  now?: () => number;
  /** Retry and queue settings (tests shorten the backoff). */
  dispatch?: Partial<DispatchSettings>;
}

export interface NotifyReport {
  alerts: { queued: number; throttled: number; belowSeverity: number; delivered: number; failed: number };
  injections: InjectReport;
}

/** The channels findings go to: those oversight.alerts names, else every channel. */
function selectedChannels(config: FlotillaConfig): Map<string, AlertChannelConfig> {
  const chosen = config.oversight.alerts;
  const channels = chosen ? config.alerts.filter((c) => chosen.includes(c.id)) : config.alerts;
  return new Map(channels.map((c) => [c.id, c]));
}

export function createNotifier(options: NotifierOptions) {
  const store = openAlertStore(join(options.stateDir, "alerts.db"));
  const secretValues = Object.values(options.secrets).filter((v): v is string => typeof v === "string");
  const writeStdout = options.writeStdout ?? ((text: string) => void process.stdout.write(text));
  const dispatcher = createDispatcher({
    store,
    ledger: options.ledger,
    channels: () => selectedChannels(options.config()),
    sender: (channel) => channelSender(channel, { secrets: options.secrets, writeStdout }),
    ...(options.now ? { now: options.now } : {}),
    ...(options.dispatch ? { settings: options.dispatch } : {}),
  });
  const injector = createInjector({
    config: options.config,
    store,
    ledger: options.ledger,
    secrets: options.secrets,
    secretValues,
    agentKey: options.agentKey ?? ((agent) => virtualKey(options.stateDir, agent)),
    escalate: (alert) => {
      for (const id of selectedChannels(options.config()).keys()) dispatcher.enqueue(id, alert);
    },
    ...(options.findingState ? { findingState: options.findingState } : {}),
  });
  dispatcher.start();
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();

  return {
    /** Alerts the open findings (throttled per channel), injects the critical ones, then attempts delivery. */
    async notify(open: readonly Finding[], run: { id: number }): Promise<NotifyReport> {
      const alerts = { queued: 0, throttled: 0, belowSeverity: 0, delivered: 0, failed: 0 };
      if (closed) return { alerts, injections: { delivered: [], failed: [], escalated: [], stopped: [] } };
      const channels = [...selectedChannels(options.config()).values()];
      for (const finding of open) {
        // Acknowledged: someone is on it; it is not alerted again.
        if (finding.state !== "open") continue;
        const alert = alertOf(finding, run.id, secretValues);
        for (const channel of channels) {
          const outcome = dispatcher.offer(channel, alert);
          if (outcome === "queued") alerts.queued++;
          else if (outcome === "throttled") alerts.throttled++;
          else alerts.belowSeverity++;
        }
      }
      // Alerts go out while an injection waits for the agent's turn.
      const first = dispatcher.pump();
      const running = injector.run(open, run.id);
      inFlight.add(running);
      try {
        const injections = await running;
        const pumped = [await first];
        if (injections.escalated.length > 0) pumped.push(await dispatcher.pump());
        for (const p of pumped) {
          alerts.delivered += p.delivered;
          alerts.failed += p.failed;
        }
        return { alerts, injections };
      } finally {
        inFlight.delete(running);
      }
    },
    /** Stops sending (what is queued stays queued for the next start) and closes the store. */
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      injector.close();
      await Promise.allSettled(inFlight);
      await dispatcher.close();
      store.close();
    },
  };
}

export type Notifier = ReturnType<typeof createNotifier>;
