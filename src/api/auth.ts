/**
 * Who is calling the control API: the operator (the token) or one agent (its own current virtual key).
 * Operator routes take only the token and agent routes only an agent's key, so an agent can neither
 * steer the fleet nor act as another agent.
 */
import type { IncomingMessage } from "node:http";
import { FlotillaError } from "../errors.ts";
import { bearerOf, sameSecret } from "./request.ts";

export type Caller = { kind: "operator" } | { kind: "agent"; agent: string } | { kind: "unknown" };

/** Identifies the caller; every key is compared, so the time taken does not say which matched. */
export function callerOf(req: IncomingMessage, token: string, keys: Record<string, string>): Caller {
  const given = bearerOf(req);
  let caller: Caller = sameSecret(given, token) ? { kind: "operator" } : { kind: "unknown" };
  for (const [agent, key] of Object.entries(keys))
    if (sameSecret(given, key) && caller.kind === "unknown") caller = { kind: "agent", agent };
  return caller;
}

/** Throws 401 unless the operator calls; an agent's key gets its own message. */
export function requireOperator(caller: Caller): void {
  if (caller.kind === "operator") return;
  throw new FlotillaError(
    "FLOTILLA_E_UNAUTHORIZED",
    caller.kind === "agent"
      ? "this route is the operator's: an agent's key is refused here (agents may only use their own routes, such as POST /v1/violations)"
      : "missing or wrong bearer token; the CLI reads it from <stateDir>/token",
    { status: 401 },
  );
}

/** The calling agent; throws 401 for anyone else, the operator included (an agent route acts for its caller). */
export function requireAgent(caller: Caller): string {
  if (caller.kind === "agent") return caller.agent;
  throw new FlotillaError(
    "FLOTILLA_E_UNAUTHORIZED",
    "this route is an agent's: call it with the agent's own key (Authorization: Bearer $FLOTILLA_AGENT_KEY)",
    { status: 401 },
  );
}
