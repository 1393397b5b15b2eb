/**
 * Probes of the fleet's processes: the daemon's API, the gateway, and each agent (the daemon's word on its state,
 * then the agent's own health probe, so a hung agent reads as down). None of them needs the daemon to answer.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readDaemonInfo } from "../api/daemon-files.ts";
import type { AgentConfig } from "../config/schema.ts";
import { GATEWAY_AGENT, INTERNAL_HEALTH } from "../fleet/fleet-wiring.ts";
import { probeHealth } from "../supervisor/health-probe.ts";
import { httpGet } from "./http-get.ts";
import { processStartedAt } from "./process-start.ts";
import type { ProbeContext } from "./probes.ts";
import type { ProbeState } from "./types.ts";

export interface Verdict {
  state: ProbeState;
  detail: string;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

/** The daemon: a live pid whose API answers /healthz; a live pid that does not answer is down past daemonGrace. */
export async function probeDaemon(ctx: ProbeContext, timeoutMs: number): Promise<Verdict> {
  const info = readDaemonInfo(ctx.config.stateDir);
  if (!info) return { state: "down", detail: "no daemon running" };
  const age = ctx.now() - info.startedAt;
  const inGrace = age < ctx.config.watchdog.daemonGrace;
  if (!info.api)
    return inGrace
      ? { state: "starting", detail: `pid ${info.pid} started ${seconds(age)} ago, API not up yet` }
      : { state: "down", detail: `pid ${info.pid} has no API ${seconds(age)} after its start` };
  const answer = await httpGet(`${info.api}/healthz`, timeoutMs);
  if (answer.ok && answer.status === 200) return { state: "healthy", detail: `pid ${info.pid} answers` };
  const why = answer.ok ? `HTTP ${answer.status}` : answer.error;
  return inGrace
    ? { state: "starting", detail: `pid ${info.pid} started ${seconds(age)} ago: ${why}` }
    : { state: "down", detail: `pid ${info.pid} does not answer: ${why}` };
}

interface RunRecord {
  name: string;
  pid: number;
  startTime: number;
}

/** When the daemon's run registry says a process of this name started (epoch ms), if it still runs. */
function startedAtFromRegistry(stateDir: string, name: string): number | undefined {
  let records: unknown;
  try {
    records = JSON.parse(readFileSync(join(stateDir, "run", "agents.json"), "utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(records)) return undefined;
  const record = (records as RunRecord[]).find((r) => r?.name === name);
  return record ? processStartedAt(record.pid, record.startTime) : undefined;
}

/** The gateway: its own /healthz on gateway.listen, with its start grace counted from its process's start. */
export async function probeGateway(ctx: ProbeContext, timeoutMs: number): Promise<Verdict> {
  const answer = await httpGet(`http://${ctx.config.gateway.listen}/healthz`, timeoutMs);
  if (answer.ok && answer.status === 200) return { state: "healthy", detail: "answers /healthz" };
  const why = answer.ok ? `HTTP ${answer.status}` : answer.error;
  const now = ctx.now();
  const startedAt = startedAtFromRegistry(ctx.config.stateDir, GATEWAY_AGENT);
  if (startedAt !== undefined && now - startedAt < INTERNAL_HEALTH.grace)
    return { state: "starting", detail: `started ${seconds(now - startedAt)} ago: ${why}` };
  return { state: "down", detail: why };
}

/** An agent's row in the daemon's GET /v1/status. */
interface AgentRow {
  name: string;
  state: string;
  uptimeSec: number | null;
  lastExit: { code: number | null; signal: string | null; at: number } | null;
}

/** The daemon's view of every agent, or why it cannot be had (then agents are not judged: the daemon comes first). */
async function daemonAgents(
  ctx: ProbeContext,
  timeoutMs: number,
): Promise<{ rows: AgentRow[] } | { error: string }> {
  const info = readDaemonInfo(ctx.config.stateDir);
  if (!info?.api) return { error: "daemon down" };
  let token: string;
  try {
    token = readFileSync(join(ctx.config.stateDir, "token"), "utf8").trim();
  } catch {
    return { error: "daemon down (no API token in the state dir)" };
  }
  const answer = await httpGet(`${info.api}/v1/status?usage=0`, timeoutMs, {
    authorization: `Bearer ${token}`,
  });
  if (!answer.ok) return { error: `daemon down (${answer.error})` };
  if (answer.status !== 200) return { error: `daemon down (status HTTP ${answer.status})` };
  try {
    const rows = (JSON.parse(answer.body) as { agents?: AgentRow[] }).agents;
    return Array.isArray(rows) ? { rows } : { error: "daemon down (status without agents)" };
  } catch {
    return { error: "daemon down (status is not JSON)" };
  }
}

const exitReason = (row: AgentRow): string =>
  row.lastExit
    ? `exit ${row.lastExit.signal ? `signal ${row.lastExit.signal}` : `code ${row.lastExit.code}`}`
    : "no exit recorded";

/**
 * An agent: "stopped" (an operator stop, autostart off) is never acted on; "starting" is the supervisor's;
 * "failed" is down; "backoff" is down once the agent's grace has passed since it exited; "running" is probed
 * with the agent's own health settings, and inside its grace a failed probe reads as starting.
 */
export async function probeAgent(agent: AgentConfig, ctx: ProbeContext, timeoutMs: number): Promise<Verdict> {
  const status = await daemonAgents(ctx, timeoutMs);
  if ("error" in status) return { state: "down", detail: status.error };
  const row = status.rows.find((r) => r.name === agent.name);
  if (!row) return { state: "stopped", detail: "not known to the running daemon (config not applied yet)" };
  const now = ctx.now();
  const grace = agent.health.grace;
  switch (row.state) {
    case "stopped":
    case "stopping":
      return { state: "stopped", detail: `${row.state} (operator stop or autostart off)` };
    case "starting":
      return { state: "starting", detail: "starting under the daemon" };
    case "failed":
      return { state: "down", detail: `failed (${exitReason(row)})` };
    case "backoff": {
      const since = row.lastExit ? now - row.lastExit.at : Infinity;
      return since < grace
        ? { state: "starting", detail: `restarting after ${exitReason(row)}` }
        : { state: "down", detail: `restarting for ${seconds(since)} (${exitReason(row)})` };
    }
    case "running": {
      const result = await probeHealth(agent, timeoutMs);
      if (result.ok) return { state: "healthy", detail: `answers in ${Math.round(result.latencyMs)}ms` };
      const up = (row.uptimeSec ?? Infinity) * 1000;
      return up < grace
        ? {
            state: "starting",
            detail: `up ${seconds(up)}, inside its ${seconds(grace)} grace: ${result.error}`,
          }
        : { state: "down", detail: `running but its health probe fails: ${result.error}` };
    }
    default:
      return { state: "down", detail: `unknown state "${row.state}"` };
  }
}
