/**
 * The control API's oversight routes. Operator (token): run now, list findings, acknowledge, accept a
 * finding's drafted penalty, the heartbeat, restart a stuck pass, freeze it (the stop-oversight drill). Agent (its own key): acknowledge a finding about itself, or a
 * critical one injected into its session; never another agent's, and never run or switch off the pass.
 */
import type { IncomingMessage } from "node:http";
import type { FlotillaConfig } from "../config/schema.ts";
import type { Constitution } from "../constitution/service.ts";
import { FlotillaError } from "../errors.ts";
import { FINDING_STATES, type FindingState } from "../oversight/finding.ts";
import type { StoredFinding } from "../oversight/findings-store.ts";
import { acceptPenalty, findingNotFound } from "../oversight/accept-penalty.ts";
import { injectTarget } from "../oversight/inject-target.ts";
import type { Oversight } from "../oversight/runner.ts";
import type { Caller } from "./auth.ts";
import { requireOperator } from "./auth.ts";

export interface OversightRouteDeps {
  oversight: Oversight;
  config: () => FlotillaConfig;
  constitution?: Constitution;
}

const ACK = /^\/v1\/oversight\/findings\/(\d+)\/ack$/;
const PENALTY = /^\/v1\/oversight\/findings\/(\d+)\/penalty$/;

/** Whether `agent` may acknowledge `finding`: its own, or a critical fleet finding injected into its session. */
function agentMayAck(finding: StoredFinding, agent: string, config: FlotillaConfig): boolean {
  if (finding.agent === agent) return true;
  return finding.agent === null && finding.severity === "critical" && injectTarget(config) === agent;
}

/** The heartbeat: the last finished run, and whether it is older than two intervals. */
export function oversightStatus(deps: OversightRouteDeps, now = Date.now()) {
  const { oversight } = deps;
  const config = deps.config();
  const last = oversight.store.lastRun();
  const every = config.oversight.every;
  return {
    enabled: config.oversight.enabled,
    every,
    lastRun: last ?? null,
    open: oversight.store.openCount(),
    // Stale: no run finished within two intervals, counted from this daemon's start at the earliest.
    stale:
      config.oversight.enabled &&
      now - Math.max(last?.finished ?? 0, oversight.startedAt() ?? now) > 2 * every,
  };
}

/** Handles the oversight routes; undefined when the path is not one of them. */
export async function oversightRoute(
  req: IncomingMessage,
  url: URL,
  caller: Caller,
  deps: OversightRouteDeps,
): Promise<unknown> {
  const method = req.method ?? "GET";
  const path = url.pathname;
  if (!path.startsWith("/v1/oversight/")) return undefined;
  const ack = ACK.exec(path);
  if (ack && method === "POST") {
    const id = ack[1] ?? "";
    const finding = deps.oversight.store.get(id);
    if (caller.kind === "agent") {
      // The same answer for "no such finding" and "not yours": an agent learns nothing of others' findings.
      if (!finding || !agentMayAck(finding, caller.agent, deps.config()))
        throw new FlotillaError(
          "FLOTILLA_E_FINDING_NOT_FOUND",
          `no finding ${id} about ${caller.agent} or injected into its session`,
          { status: 404 },
        );
      return { finding: deps.oversight.store.acknowledge(id, caller.agent, Date.now()) };
    }
    requireOperator(caller);
    if (!finding) throw findingNotFound(id);
    return { finding: deps.oversight.store.acknowledge(id, "operator", Date.now()) };
  }
  if (method === "POST" && (path === "/v1/oversight/restart" || path === "/v1/oversight/freeze")) {
    // An agent is known but not allowed: 403, not 401 (it must never stop or restart its own watcher).
    if (caller.kind === "agent")
      throw new FlotillaError(
        "FLOTILLA_E_UNAUTHORIZED",
        `${path} is the operator's: an agent's key may not restart or freeze the oversight pass`,
        { status: 403 },
      );
    requireOperator(caller);
    return path === "/v1/oversight/restart" ? deps.oversight.restart() : deps.oversight.freeze();
  }
  requireOperator(caller);
  if (method === "POST" && path === "/v1/oversight/run") {
    const result = await deps.oversight.runOnce();
    return result;
  }
  if (method === "GET" && path === "/v1/oversight/findings") {
    const state = url.searchParams.get("state") ?? "all";
    if (state !== "all" && !FINDING_STATES.includes(state as FindingState))
      throw new FlotillaError(
        "FLOTILLA_E_USAGE",
        `state must be open, acknowledged, resolved or all, not "${state}"`,
      );
    const agent = url.searchParams.get("agent") ?? undefined;
    const limit = Number(url.searchParams.get("limit") ?? 200);
    return {
      findings: deps.oversight.store.list({
        ...(state === "all" ? {} : { state: state as FindingState }),
        ...(agent ? { agent } : {}),
        limit: Number.isFinite(limit) ? limit : 200,
      }),
    };
  }
  if (method === "GET" && path === "/v1/oversight/status") return oversightStatus(deps);
  const penalty = PENALTY.exec(path);
  if (penalty && method === "POST" && deps.constitution)
    return acceptPenalty(deps.oversight.store, deps.constitution, penalty[1] ?? "");
  return undefined;
}
