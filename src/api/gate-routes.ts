/**
 * The gate's routes, for an agent (its own key) or the operator (the token): what the daemon knows
 * about a push (POST /v1/gate/context) and the gate's outcome (POST /v1/gate/records, a ledger event
 * naming the caller). A record's agent is always the key's owner, whatever the body says.
 */
import type { IncomingMessage } from "node:http";
import type { FlotillaConfig } from "../config/schema.ts";
import { FlotillaError } from "../errors.ts";
import type { Store } from "../ledger/store.ts";
import type { CiResult } from "../oversight/ci/ci-result.ts";
import { type CiSourceDeps, ciSourceOf } from "../oversight/ci/ci-source.ts";
import { type GateContext, RECORD_KINDS, type RecordKind } from "../oversight/gate/gate-context.ts";
import { matchRepo } from "../oversight/gate/repo-match.ts";
import type { Caller } from "./auth.ts";
import { readJson } from "./request.ts";

/** Largest body the gate routes read (bytes): a push of thousands of commits fits. */
const MAX_BODY = 1024 * 1024;
/** Longest reason kept. */
const MAX_REASON = 2_000;

export interface GateDeps {
  config: () => FlotillaConfig;
  store: Store;
  ci: () => CiSourceDeps;
}

const str = (value: unknown, max = MAX_REASON): string | null =>
  typeof value === "string" ? value.slice(0, max) : null;

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parsed = await readJson(req, MAX_BODY);
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new FlotillaError("FLOTILLA_E_USAGE", "the request body must be a JSON object");
  return parsed as Record<string, unknown>;
}

async function context(req: IncomingMessage, caller: Caller, deps: GateDeps): Promise<GateContext> {
  const input = await body(req);
  const config = deps.config();
  const remote = str(input.remote) ?? "";
  const index = remote ? matchRepo(remote, config.repos, "/") : -1;
  const repo = index >= 0 ? config.repos[index] : undefined;
  const { thresholds } = config.oversight;
  const tip = str(input.tip);
  const branch = (str(input.ref) ?? "").replace(/^refs\/heads\//, "");
  let ci: CiResult | null = null;
  if (repo?.ci?.kind === "github" && tip && repo.branches.includes(branch))
    ci = (await ciSourceOf(repo, index, deps.ci())?.status(tip)) ?? null;
  const agent = caller.kind === "agent" ? caller.agent : null;
  const last = agent ? deps.store.query({ kind: "gateway.request", agent, limit: 1 }).at(-1) : undefined;
  return {
    repo: repo
      ? {
          index,
          path: repo.path,
          branches: [...repo.branches],
          test: repo.test ? [...repo.test] : null,
          ci: repo.ci
            ? {
                kind: repo.ci.kind,
                command: repo.ci.command ? [...repo.ci.command] : null,
                timeout: repo.ci.timeout,
              }
            : null,
        }
      : null,
    limits: {
      maxFiles: repo?.gate.maxFiles ?? thresholds.maxFiles,
      formatFiles: repo?.gate.formatFiles ?? thresholds.formatFiles,
      noiseCommits: repo?.gate.noiseCommits ?? thresholds.noiseCommits,
      noiseWindow: thresholds.noiseWindow,
    },
    ci,
    agent,
    tier: typeof last?.data.tier === "string" ? last.data.tier : null,
  };
}

async function record(req: IncomingMessage, caller: Caller, deps: GateDeps) {
  const input = await body(req);
  const kind = input.kind as RecordKind;
  if (!RECORD_KINDS.includes(kind))
    throw new FlotillaError("FLOTILLA_E_USAGE", `kind must be one of ${RECORD_KINDS.join(", ")}`);
  const shas = Array.isArray(input.shas)
    ? input.shas.filter((s): s is string => typeof s === "string" && /^[0-9a-f]{40,64}$/.test(s))
    : [];
  const remote = str(input.remote) ?? "";
  const repos = deps.config().repos;
  const index = remote ? matchRepo(remote, repos, "/") : -1;
  const agent = caller.kind === "agent" ? caller.agent : undefined;
  const reason = str(input.reason);
  if (kind === "emergency" && !reason?.trim())
    throw new FlotillaError("FLOTILLA_E_USAGE", 'an emergency needs its reason: --emergency "WHY"');
  deps.store.append({
    kind: `gate.${kind}`,
    ...(agent ? { agent } : {}),
    data: {
      repo: repos[index]?.path ?? null,
      remote,
      ref: str(input.ref, 200),
      shas,
      ...(reason ? { reason } : {}),
      ...(str(input.refusal) ? { refusal: str(input.refusal) } : {}),
      by: agent ?? "operator",
    },
  });
  return { recorded: true, kind, repo: repos[index]?.path ?? null, shas: shas.length };
}

/** Handles a gate route for an authenticated caller (operator or agent); undefined when the path is not one. */
export async function gateRoute(
  req: IncomingMessage,
  path: string,
  caller: Caller,
  deps: GateDeps,
): Promise<unknown> {
  if (req.method !== "POST" || !path.startsWith("/v1/gate/")) return undefined;
  if (caller.kind === "unknown")
    throw new FlotillaError(
      "FLOTILLA_E_UNAUTHORIZED",
      "the gate's routes take an agent's own key (FLOTILLA_AGENT_KEY) or the operator's token",
      { status: 401 },
    );
  if (path === "/v1/gate/context") return context(req, caller, deps);
  if (path === "/v1/gate/records") return record(req, caller, deps);
  return undefined;
}
