/**
 * The last rung of the recovery ladder: "human needed", sent straight from the watchdog through the alert
 * channels (the daemon may be dead, so never through it). With no channel, or every channel failing, the
 * escalation goes to stderr and <stateDir>/incidents/escalations.jsonl. It never throws.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Alert, redact } from "../../alerts/alert.ts";
import { channelSender } from "../../alerts/channels/channel.ts";
import type { FlotillaConfig } from "../../config/schema.ts";
import type { Incident } from "../types.ts";
import { fleetSecrets } from "./run-child.ts";

export interface EscalateContext {
  config: FlotillaConfig;
  env: NodeJS.ProcessEnv;
  stateDir: string;
}

/** What the watchdog tried, in one phrase: the actions that ran and the restore's outcome. */
function triedOf(incident: Incident): string {
  const steps = incident.ran.map((run) => {
    const result = run.timedOut ? "timed out" : `exit ${run.exitCode ?? "?"}`;
    return `${run.argv.join(" ")} (${result})`;
  });
  if (incident.restore)
    steps.push(
      `restore of last known good${incident.restore.backupId ? ` ${incident.restore.backupId}` : ""} (${incident.restore.outcome}${incident.restore.reason ? `: ${incident.restore.reason}` : ""})`,
    );
  return steps.length > 0 ? `after ${steps.join(", ")}` : "with nothing tried";
}

/** The incident in a few lines: what the probes saw, the diagnosis, the refusals, the notes. */
function summaryOf(incident: Incident): string {
  const seen = incident.seen.at(-1);
  const refused = incident.decisions.filter((d) => !d.allowed);
  return [
    ...(seen ? [`Seen: ${seen.state}: ${seen.detail}`] : []),
    incident.diagnosis
      ? `Diagnosis (${incident.diagnosis.source}): ${incident.diagnosis.diagnosis}`
      : `No diagnosis: ${incident.noDiagnosis ?? "none"}`,
    ...(refused.length > 0 ? [`Refused actions: ${refused.length}`] : []),
    ...incident.notes.map((note) => `Note: ${note}`),
  ].join("\n");
}

/** The escalation as an alert every channel renders (critical: it passes every minSeverity). */
function escalationAlert(
  incident: Incident,
  secrets: readonly string[],
  now = Date.now(),
  notice?: string,
): Alert {
  const headline = notice
    ? `${notice}, incident ${incident.id}`
    : `human needed: ${incident.target.id} ${triedOf(incident)}, incident ${incident.id}`;
  return {
    finding: {
      id: incident.id,
      check: "watchdog",
      severity: notice ? "warning" : "critical",
      agent: incident.target.kind === "agent" ? incident.target.name : null,
      article: null,
      evidence: redact(`${headline}\n${summaryOf(incident)}`, secrets),
      suggestion: `Look at the incident (flotilla incidents; ${incident.id}.md under the state dir's incidents/), fix the cause, then "flotilla incidents ack ${incident.id}".`,
      state: "open",
      firstSeen: incident.firstSeenAt,
      lastSeen: now,
    },
    run: 0,
    repeats: 0,
  };
}

/** Writes the escalation where a human will find it when no channel took it; never throws. */
function fallback(stateDir: string, alert: Alert, failed: string[]): void {
  const line = JSON.stringify({ ts: new Date().toISOString(), failedChannels: failed, ...alert });
  try {
    process.stderr.write(`flotilla watchdog: ${alert.finding.evidence}\n`);
  } catch {
    // nowhere left to say it
  }
  try {
    const dir = join(stateDir, "incidents");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    appendFileSync(join(dir, "escalations.jsonl"), `${line}\n`, { mode: 0o600 });
  } catch {
    // stderr has it
  }
}

/**
 * Sends "human needed" for an incident to watchdog.alerts (default: every channel); never throws. With
 * `notice`, it sends that line instead, as a warning (the watchdog telling, not asking for a human).
 */
export async function escalate(
  incident: Incident,
  ctx: EscalateContext,
  notice?: string,
): Promise<{ delivered: string[]; failed: string[] }> {
  const delivered: string[] = [];
  const failed: string[] = [];
  let alert: Alert;
  try {
    alert = escalationAlert(incident, fleetSecrets(ctx.config, ctx.env), Date.now(), notice);
  } catch {
    // a malformed incident still escalates, with what it names
    alert = escalationAlert(
      { ...incident, seen: [], notes: [], decisions: [], ran: [] },
      [],
      Date.now(),
      notice,
    );
  }
  try {
    const ids = ctx.config.watchdog.alerts ?? ctx.config.alerts.map((c) => c.id);
    const channels = ctx.config.alerts.filter((c) => ids.includes(c.id));
    const signal = new AbortController().signal;
    // All at once (each with its channel's timeout), reported in the config's order.
    const sent = await Promise.all(
      channels.map(async (channel) => {
        try {
          const send = channelSender(channel, {
            secrets: ctx.env,
            writeStdout: (text) => process.stdout.write(text),
          });
          await send(alert, signal);
          return true;
        } catch {
          return false;
        }
      }),
    );
    channels.forEach((channel, index) => (sent[index] ? delivered : failed).push(channel.id));
  } catch {
    // a broken channel list: the fallback below still records it
  }
  if (delivered.length === 0) fallback(ctx.stateDir, alert, failed);
  return { delivered, failed };
}
