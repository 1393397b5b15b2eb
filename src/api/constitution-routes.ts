/**
 * The control API's constitution routes: amendments, penalties and clearing strict mode (operator
 * token), and an agent's report of its own violation (the agent's virtual key, compared here without
 * node:crypto: the keys arrive from the CLI, already derived).
 */
import type { IncomingMessage } from "node:http";
import type { Constitution } from "../constitution/service.ts";
import { penaltyInputOf } from "../constitution/penalty-rules.ts";
import { FlotillaError } from "../errors.ts";
import { bearerOf, readJson, sameText } from "./request.ts";

/** Largest request body the constitution routes read (bytes). */
const MAX_BODY = 64 * 1024;

/** Reads a small JSON object body; anything else is a 400 naming what to send. */
async function readObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJson(req, MAX_BODY);
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new FlotillaError("FLOTILLA_E_USAGE", "the request body must be a JSON object");
  return body as Record<string, unknown>;
}

/** The agent whose virtual key is the request's bearer token, or undefined. Every key is compared. */
export function agentOfKey(req: IncomingMessage, keys: Record<string, string>): string | undefined {
  const given = bearerOf(req);
  let found: string | undefined;
  for (const [agent, key] of Object.entries(keys)) if (sameText(given, key) && given) found = agent;
  return found;
}

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/**
 * Handles POST /v1/violations, authenticated by the agent's own key (not the operator token).
 * Returns the response body.
 */
export async function reportViolation(
  req: IncomingMessage,
  constitution: Constitution,
  keys: Record<string, string>,
): Promise<unknown> {
  const agent = agentOfKey(req, keys);
  if (!agent) {
    throw new FlotillaError(
      "FLOTILLA_E_UNAUTHORIZED",
      "a violation is reported with the agent's own key: Authorization: Bearer $FLOTILLA_AGENT_KEY",
      { status: 401 },
    );
  }
  // The penalty is the key owner's, whatever agent the body names (reportViolation sets it last).
  const penalty = constitution.reportViolation(agent, penaltyInputOf(await readObject(req)));
  return { penalty, strict: true };
}

/** Handles the operator's constitution routes; undefined when the path is not one of them. */
export async function constitutionRoute(
  req: IncomingMessage,
  path: string,
  constitution: Constitution,
): Promise<unknown> {
  if (req.method !== "POST") return undefined;
  if (path === "/v1/constitution/amendments") {
    const body = await readObject(req);
    const amendment = constitution.amend({
      ...(typeof body.article === "number" || typeof body.article === "string"
        ? { article: body.article }
        : {}),
      ...(str(body.text) !== undefined ? { text: str(body.text) } : {}),
      ...(str(body.reason) !== undefined ? { reason: str(body.reason) } : {}),
    });
    return { amendment };
  }
  if (path === "/v1/penalties") {
    return { penalty: constitution.addPenalty(penaltyInputOf(await readObject(req))) };
  }
  const clear = /^\/v1\/agents\/([a-z][a-z0-9-]*)\/clear-strict$/.exec(path);
  if (clear) {
    const agent = clear[1] ?? "";
    return { agent, cleared: constitution.clearStrict(agent), strict: false };
  }
  return undefined;
}
