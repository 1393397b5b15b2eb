/** The gateway's request handler: identify the agent, check its budget, resolve its chain, and hand over to the router. */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { JUDGE_IDENTITY } from "../config/cross-field.ts";
import type { FlotillaConfig } from "../config/schema.ts";
import type { Store } from "../ledger/store.ts";
import { createAccounting } from "./accounting.ts";
import { contextWindow, estimateTokens } from "./context-guard.ts";
import { type ClientFormat, errorResponse, sendError } from "./errors.ts";
import { createAgentServer } from "./agent-server.ts";
import { createProviderRuntime } from "./provider-pool.ts";
import { type Candidate, route } from "./router.ts";
import { ClientGone, readCappedBody } from "./request-body.ts";
import { normalizeRequest } from "./translate.ts";
import { createKeyRing } from "./virtual-keys.ts";
import { RequestCancel } from "./cancel-signal.ts";
import { requestFingerprint } from "./request-fingerprint.ts";
import { holdRequest } from "./held-request.ts";

const ROUTES: Record<string, ClientFormat> = {
  "/v1/chat/completions": "openai",
  "/chat/completions": "openai",
  "/v1/messages": "anthropic",
  "/v1/responses": "responses",
  "/responses": "responses",
};

export interface GatewayOptions {
  config: FlotillaConfig;
  store: Store;
  /** Where the providers' { env } secret references are looked up (default: the process's environment). */
  secretEnv?: NodeJS.ProcessEnv;
}

function presentedKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  const key = req.headers["x-api-key"];
  return typeof key === "string" ? key.trim() : undefined;
}

export function createGateway(options: GatewayOptions) {
  const { config, store } = options;
  // The oversight judge has an identity of its own (a reserved name no agent can take), accounted apart.
  const keyRing = createKeyRing(config.stateDir, [
    ...config.agents.map((a) => a.name),
    ...(config.oversight.model ? [JUDGE_IDENTITY] : []),
  ]);
  const accounting = createAccounting(config, store);
  const gatewayEvent = (kind: string, data: Record<string, unknown>) => store.append({ kind, data });
  const runtimes = new Map(
    config.providers.map((p) => [
      p.id,
      createProviderRuntime(p, {
        event: gatewayEvent,
        ...(options.secretEnv ? { secretEnv: options.secretEnv } : {}),
      }),
    ]),
  );
  const chains = new Map<string, Candidate[]>(
    Object.entries(config.models).map(([name, entries]) => [
      name,
      entries.map((entry, index) => ({
        runtime: runtimes.get(entry.provider) as NonNullable<ReturnType<typeof runtimes.get>>,
        model: entry.model,
        tier: entry.tier ?? (index === 0 ? "primary" : "secondary"),
        window: contextWindow(entry.model, entry.contextWindow),
      })),
    ]),
  );
  const agents = new Map(config.agents.map((a) => [a.name, a]));
  const event = (agent: string) => (kind: string, data: Record<string, unknown>) =>
    store.append({ kind, agent, data });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "GET" && path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end('{"ok":true}');
    }
    if (req.method === "GET" && (path === "/v1/models" || path === "/models")) {
      const data = [...chains.keys()].map((id) => ({ id, object: "model", owned_by: "flotilla" }));
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(JSON.stringify({ object: "list", data }));
    }
    const client = ROUTES[path];
    if (req.method !== "POST" || !client) {
      return sendError(
        res,
        errorResponse(
          "openai",
          404,
          `no route ${req.method} ${path}; use /v1/chat/completions, /v1/messages or /v1/responses`,
        ),
      );
    }
    const agentName = keyRing.identify(presentedKey(req), req.socket);
    if (!agentName) {
      return sendError(
        res,
        errorResponse(
          client,
          401,
          "unknown, revoked or missing key; use the virtual key Flotilla gave this agent now (FLOTILLA_AGENT_KEY; a rotated key is refused: flotilla key <agent>)",
        ),
      );
    }
    const raw = await readCappedBody(req, config.gateway.maxBodySize);
    if (!raw) {
      return sendError(
        res,
        errorResponse(
          client,
          413,
          `request body over the ${config.gateway.maxBodySize}-byte limit (gateway.maxBodySize)`,
        ),
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch {
      return sendError(res, errorResponse(client, 400, "the request body is not valid JSON"));
    }
    const normalized = normalizeRequest(client, parsed);
    if (!normalized.ok) return sendError(res, errorResponse(client, 400, normalized.message));
    const agent = agents.get(agentName);
    const over = accounting.overBudget(agentName);
    if (over) {
      store.append({ kind: "gateway.budget_exceeded", agent: agentName, data: over });
      return sendError(
        res,
        errorResponse(
          client,
          429,
          `daily budget of $${over.daily} reached ($${over.spent.toFixed(4)} spent today); an operator can raise agents.${agentName}.budget.daily`,
          {
            code: "insufficient_quota",
            type: "insufficient_quota",
          },
        ),
      );
    }
    const requested = typeof normalized.body.model === "string" ? normalized.body.model : "";
    const chain = chains.get(requested) ?? (agent?.model ? chains.get(agent.model) : undefined);
    if (!chain) {
      const known = [...chains.keys()].join(", ") || "none";
      return sendError(
        res,
        errorResponse(
          client,
          404,
          `unknown model "${requested}" (models: ${known}); set agents.${agentName}.model or use one of these`,
          { code: "model_not_found" },
        ),
      );
    }
    const abort = new RequestCancel();
    res.once("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    const passHeaders: Record<string, string> = {};
    for (const name of ["anthropic-version", "anthropic-beta"]) {
      const value = req.headers[name];
      if (typeof value === "string") passHeaders[name] = value;
    }
    const first = chain[0] && { kind: chain[0].runtime.provider.kind, model: chain[0].model };
    const request = holdRequest(client, normalized.body, normalized.body === parsed ? raw : undefined, first);
    // Returned, not awaited: this frame (and the parsed tree it names) ends here, the call goes on in route.
    return route({
      agent: agentName,
      priority: agent?.role === "coordinator" ? 1 : 0,
      client,
      request,
      estTokens: estimateTokens(raw),
      stream: request.stream,
      chain,
      strategy: config.gateway.contextStrategy,
      passHeaders,
      queueTimeoutMs: config.gateway.queueTimeout,
      maxResponseSize: config.gateway.maxResponseSize,
      signal: abort,
      res,
      accounting,
      event: event(agentName),
      started: Date.now(),
      fingerprint: requestFingerprint(normalized.body),
    });
  }

  /** Handles one request; never throws (an unexpected error becomes a 500 in the caller's format). */
  function handleSafely(req: IncomingMessage, res: ServerResponse): void {
    handle(req, res).catch((err: unknown) => {
      // The agent left mid-body: the connection is gone, nobody to answer.
      if (err instanceof ClientGone) return;
      store.append({ kind: "gateway.internal_error", data: { message: (err as Error).message } });
      sendError(
        res,
        errorResponse(
          ROUTES[(req.url ?? "").split("?")[0] ?? ""] ?? "openai",
          500,
          "internal gateway error; see the ledger",
        ),
      );
    });
  }

  return {
    /** The HTTP server for this gateway (not listening yet), with the limits of the gateway config. */
    server(): Server {
      const { headersTimeout, requestTimeout, keepAliveTimeout, maxConnections, maxBodySize } =
        config.gateway;
      return createAgentServer(handleSafely, {
        headersTimeout,
        requestTimeout,
        keepAliveTimeout,
        maxConnections,
        maxBodySize,
      });
    },
    /** Reads the key registry again (SIGHUP after a rotation): a replaced key is refused from now on. */
    reloadKeys(): void {
      keyRing.reload();
      store.append({ kind: "gateway.keys_reloaded", data: {} });
    },
    /** Closes the providers' upstream connections (after the server has stopped taking requests). */
    async close(): Promise<void> {
      await Promise.all([...runtimes.values()].map((runtime) => runtime.dispatcher.close()));
    },
  };
}
