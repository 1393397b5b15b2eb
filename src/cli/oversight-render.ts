/** How the oversight commands and `flotilla status` show findings, runs and the heartbeat to people. */
import { formatDuration } from "../config/units.ts";
import type { RunRecord, StoredFinding } from "../oversight/findings-store.ts";

/** The heartbeat as GET /v1/oversight/status (and /v1/status) give it. */
export interface OversightHeartbeat {
  enabled: boolean;
  every: number;
  lastRun: RunRecord | null;
  open: number;
  stale: boolean;
}

const ago = (ms: number, now: number): string =>
  `${formatDuration(Math.max(0, Math.round((now - ms) / 1000)) * 1000)} ago`;

export function renderFinding(f: StoredFinding): string {
  const lines = [
    `#${f.id}  ${f.state.toUpperCase()}  ${f.severity}  ${f.check}  ${f.agent ?? "(fleet)"}  ${new Date(f.lastSeen).toISOString()}${f.article ? `  Article ${f.article}` : ""}`,
    `  evidence:   ${f.evidence}`,
    `  suggestion: ${f.suggestion}`,
  ];
  if (f.penaltyId !== null) lines.push(`  penalty:    #${f.penaltyId} recorded`);
  else if (f.penalty)
    lines.push(`  penalty:    drafted; accept it with "flotilla penalty add --from-finding ${f.id}"`);
  return lines.join("\n");
}

export function renderFindings(findings: StoredFinding[]): string {
  return findings.length === 0 ? "no findings" : findings.map(renderFinding).join("\n");
}

export function renderRun(run: RunRecord, findings: StoredFinding[], durationMs: number): string {
  const open = findings.filter((f) => f.state === "open").length;
  const head = `oversight run #${run.id}: ${run.outcome} in ${durationMs} ms, ${findings.length} finding(s), ${open} open`;
  const errors = run.errors.map((e) => `  check ${e.check} failed: ${e.message}`);
  return [head, ...errors, ...(findings.length > 0 ? [renderFindings(findings)] : [])].join("\n");
}

/** One line for `flotilla status`: the last run, its outcome and the open findings; a stale heartbeat in red. */
export function heartbeatLine(h: OversightHeartbeat, now: number, colour: boolean): string {
  if (!h.enabled) return "oversight: off (oversight.enabled is false)";
  const last = h.lastRun?.finished
    ? `last run #${h.lastRun.id} ${ago(h.lastRun.finished, now)}, ${h.lastRun.outcome}`
    : "no run yet";
  const text = `oversight: ${last}, ${h.open} open finding(s)${h.stale ? ` — STALE: no run finished in two intervals (${formatDuration(2 * h.every)})` : ""}`;
  return h.stale && colour ? `\x1b[31m${text}\x1b[0m` : text;
}
