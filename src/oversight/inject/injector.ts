/**
 * Critical findings into the coordinator's session: each is stored, sent again on every run until it is
 * acknowledged (or, when the runner can say so, resolved), and after oversight.inject.escalateAfter runs
 * unacknowledged it goes to the alert channels, exactly once.
 */
import type { Alert } from "../../alerts/alert.ts";
import { alertOf, redact } from "../../alerts/alert.ts";
import type { AlertStore, Injection } from "../../alerts/alert-store.ts";
import type { FlotillaConfig } from "../../config/schema.ts";
import type { Store } from "../../ledger/store.ts";
import type { Finding, FindingState } from "../finding.ts";
import { injectionMessage } from "./message.ts";
import { injectTarget, type TargetDeps } from "./targets.ts";

export interface InjectReport {
  /** Finding ids delivered into the agent's session this run. */
  delivered: string[];
  /** Finding ids whose delivery failed this run (tried again on the next). */
  failed: string[];
  /** Finding ids sent to the alert channels this run because they stayed unacknowledged. */
  escalated: string[];
  /** Finding ids no longer sent: acknowledged or resolved. */
  stopped: string[];
}

export interface InjectorOptions extends TargetDeps {
  config: () => FlotillaConfig;
  store: AlertStore;
  ledger: Pick<Store, "append">;
  /** Secret values to keep out of messages and records. */
  secretValues: readonly string[];
  /** Hands an escalation to the alert channels. */
  escalate: (alert: Alert) => void;
  /** The current state of a finding the run did not report; without it, such a finding stays pending. */
  findingState?: (id: string) => FindingState | undefined;
}

export function createInjector(options: InjectorOptions) {
  const { store, ledger } = options;
  const closing = new AbortController();

  function stop(pending: Injection, reason: string, report: InjectReport): void {
    store.saveInjection({ ...pending, stopped: reason });
    ledger.append({
      kind: "inject.stopped",
      agent: pending.agent,
      data: { finding: pending.finding, reason },
    });
    report.stopped.push(pending.finding);
  }

  /** Stores the critical findings of this run, stops the acknowledged, and sends what is pending. */
  async function run(reported: readonly Finding[], runId: number): Promise<InjectReport> {
    const report: InjectReport = { delivered: [], failed: [], escalated: [], stopped: [] };
    const config = options.config();
    const target = injectTarget(config, options);
    const agent = typeof target === "string" ? "" : target.agent;
    const seen = new Map<string, Finding>();
    for (const finding of reported) {
      if (finding.severity !== "critical") continue;
      seen.set(finding.id, finding);
      const known = store.injection(finding.id);
      if (finding.state !== "open") {
        if (known && known.stopped === null) stop(known, finding.state, report);
        continue;
      }
      if (known && known.stopped === null) continue;
      const alert = alertOf(finding, runId, options.secretValues);
      // A finding opened again after it was acknowledged starts over.
      store.saveInjection({
        finding: finding.id,
        agent,
        message: injectionMessage(alert.finding),
        alert,
        runs: 0,
        sent: 0,
        lastRun: 0,
        escalated: false,
        stopped: null,
      });
    }
    for (const pending of store.pendingInjections()) {
      if (pending.lastRun === runId) continue; // notify called twice for one run
      if (!seen.has(pending.finding) && options.findingState) {
        const state = options.findingState(pending.finding);
        if (state !== "open") {
          stop(pending, state ?? "gone", report);
          continue;
        }
      }
      const next: Injection = { ...pending, runs: pending.runs + 1, lastRun: runId };
      if (typeof target === "string") {
        ledger.append({ kind: "inject.failed", data: { finding: pending.finding, error: target } });
        report.failed.push(pending.finding);
      } else {
        next.agent = target.agent;
        try {
          await target.send(pending.message, pending.alert.finding, closing.signal);
          next.sent++;
          ledger.append({
            kind: "inject.delivered",
            agent: target.agent,
            data: { finding: pending.finding, via: target.via, run: runId, times: next.sent },
          });
          report.delivered.push(pending.finding);
        } catch (err) {
          const error = redact((err as Error).message, options.secretValues);
          ledger.append({
            kind: "inject.failed",
            agent: target.agent,
            data: { finding: pending.finding, via: target.via, run: runId, error },
          });
          report.failed.push(pending.finding);
        }
      }
      const after = config.oversight.inject.escalateAfter;
      if (!next.escalated && next.runs >= after) {
        next.escalated = true;
        options.escalate({ ...pending.alert, run: runId, escalatedAfter: next.runs });
        ledger.append({
          kind: "inject.escalated",
          ...(next.agent ? { agent: next.agent } : {}),
          data: { finding: pending.finding, runs: next.runs },
        });
        report.escalated.push(pending.finding);
      }
      store.saveInjection(next);
    }
    return report;
  }

  return {
    run,
    close(): void {
      closing.abort();
    },
  };
}
