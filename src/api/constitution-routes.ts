/**
 * The control API's constitution routes: amendments, penalties and clearing strict mode (operator
 * token), and an agent's report of its own violation (the agent's own key, checked by the caller).
 */
import type { IncomingMessage } from "node:http";
import type { Constitution } from "../constitution/service.ts";
import { penaltyInputOf } from "../constitution/penalty-rules.ts";
import { FlotillaError } from "../errors.ts";
import { readJson } from "./request.ts";

/** Largest request body the constitution routes read (bytes). */
const MAX_BODY = 64 * 1024;

/** Reads a small JSON object body; anything else is a 400 naming what to send. */
async function readObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJson(req, MAX_BODY);
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new FlotillaError("FLOTILLA_E_USAGE", "the request body must be a JSON object");
  return body as Record<string, unknown>;
}

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/**
 * Handles POST /v1/violations for `agent`, the owner of the key the request was authenticated with.
 * Returns the response body.
 */
export async function reportViolation(
  req: IncomingMessage,
  constitution: Constitution,
  agent: string,
): Promise<unknown> {
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
