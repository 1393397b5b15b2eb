/**
 * An incident as Markdown for the operator: what was seen, the diagnosis, what was proposed, allowed, refused
 * and run, the restore evidence, the outcome and its timings. Text from agents and the model (log lines,
 * action output, the diagnosis) is shown in code spans and fences that its own backticks cannot close.
 */
import type { Incident } from "./types.ts";

const iso = (ms: number | undefined) => (ms === undefined ? "—" : new Date(ms).toISOString());

/** Milliseconds as "850 ms", "42 s" or "3 m 5 s". */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} m ${s % 60} s`;
}

/** Text in a fenced block whose fence is longer than any run of backticks inside it. */
function fenced(text: string, lang = ""): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text}\n${fence}`;
}

/** One line of text as a code span that its own backticks cannot close. */
function code(text: string): string {
  const line = text.replace(/[\r\n]+/g, " ");
  const longest = Math.max(0, ...[...line.matchAll(/`+/g)].map((m) => m[0].length));
  if (longest === 0) return `\`${line}\``;
  const ticks = "`".repeat(longest + 1);
  return `${ticks} ${line} ${ticks}`;
}

const argv = (args: string[]) => code(JSON.stringify(args));

function summary(i: Incident): string[] {
  return [
    `- Target: ${i.target.id}`,
    `- Outcome: ${i.outcome}${i.acknowledgedAt !== undefined ? " (acknowledged)" : ""}`,
    `- First failed probe: ${iso(i.firstSeenAt)}`,
    `- Detected: ${iso(i.detectedAt)} (time to detect ${duration(i.timeToDetectMs)})`,
    `- Recovered: ${iso(i.recoveredAt)} (time to recover ${duration(i.timeToRecoverMs)})`,
    ...(i.escalatedAt !== undefined ? [`- Escalated: ${iso(i.escalatedAt)}`] : []),
    ...(i.acknowledgedAt !== undefined ? [`- Acknowledged: ${iso(i.acknowledgedAt)}`] : []),
    `- Model calls: ${i.modelCalls}`,
  ];
}

function seen(i: Incident): string[] {
  if (i.seen.length === 0) return ["Nothing recorded."];
  return i.seen.map((p) => `- ${iso(p.at)} ${p.state}: ${code(p.detail)}`);
}

function diagnosis(i: Incident): string[] {
  if (!i.diagnosis) return [`None: ${i.noDiagnosis ?? "not asked"}. The deterministic path ran.`];
  const d = i.diagnosis;
  const from = d.source === "cache" ? "reused from the cache" : `from ${d.model ?? "the model"}`;
  return [`Confidence ${d.confidence}, ${from}:`, "", fenced(d.diagnosis)];
}

function actions(i: Incident): string[] {
  const lines = ["### Proposed", ""];
  lines.push(
    ...(i.proposed.length
      ? i.proposed.map((a) => `- ${argv(a.argv)}${a.why ? `: ${code(a.why)}` : ""}`)
      : ["None."]),
  );
  lines.push("", "### Policy", "");
  lines.push(
    ...(i.decisions.length
      ? i.decisions.map((d) =>
          d.allowed
            ? `- allowed ${argv(d.argv)} (rule: ${d.rule})`
            : `- refused ${argv(d.argv)}: ${d.reason}`,
        )
      : ["No decisions."]),
  );
  lines.push("", "### Ran", "");
  if (i.ran.length === 0) lines.push("Nothing ran.");
  for (const run of i.ran) {
    const exit = run.timedOut ? "timed out" : `exit ${run.exitCode ?? "none"}`;
    lines.push(`- ${argv(run.argv)} (${run.origin}): ${exit} after ${duration(run.ms)}`);
    if (run.output) lines.push("", fenced(run.output), "");
  }
  return lines;
}

function restore(i: Incident): string[] {
  const r = i.restore;
  if (!r) return [];
  return [
    "## Config restore",
    "",
    `- Backup: ${r.backupId} (${r.outcome}${r.reason ? `: ${r.reason}` : ""})`,
    `- sha256 before: ${r.fromSha256}`,
    `- sha256 after: ${r.toSha256}`,
    ...(r.savedAs ? [`- Live files saved first as backup ${r.savedAs}`] : []),
    ...(r.keptKeys.length ? [`- Secret references kept from the live config: ${r.keptKeys.join(", ")}`] : []),
    ...(r.skippedFiles.length
      ? [`- Not restored (placeholders in the backup): ${r.skippedFiles.join(", ")}`]
      : []),
    "",
    fenced(r.diff || "(no difference)", "diff"),
    "",
  ];
}

/** The incident's Markdown file. */
export function renderIncident(incident: Incident): string {
  const last = incident.seen.at(-1);
  const title = `# Incident ${incident.id}: ${incident.target.id} ${last?.state ?? "down"}`;
  return [
    title,
    "",
    ...summary(incident),
    "",
    "## What was seen",
    "",
    ...seen(incident),
    "",
    "## Diagnosis",
    "",
    ...diagnosis(incident),
    "",
    "## Actions",
    "",
    ...actions(incident),
    "",
    ...restore(incident),
    ...(incident.notes.length ? ["## Notes", "", ...incident.notes.map((n) => `- ${code(n)}`), ""] : []),
  ]
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trimEnd()
    .concat("\n");
}
