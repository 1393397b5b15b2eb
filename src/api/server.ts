/** The daemon's control API on loopback: JSON over HTTP, SSE for log follow; every route but /healthz needs the token. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isFlotillaError } from "../errors.ts";
import type { ApplyRequest, Migrator } from "../migrations/migrator.ts";
import type { Constitution } from "../constitution/service.ts";
import type { Store } from "../ledger/store.ts";
import type { Supervisor } from "../supervisor/supervisor.ts";
import type { KeyRotation } from "../fleet/key-rotation.ts";
import { createUsageSampler, type UsageSampler } from "../supervisor/resource-usage.ts";
import { callerOf, requireAgent, requireOperator } from "./auth.ts";
import { readJson } from "./request.ts";
import { constitutionRoute, reportViolation } from "./constitution-routes.ts";
import { type OversightRouteDeps, oversightRoute, oversightStatus } from "./oversight-routes.ts";
import { type GateDeps, gateRoute } from "./gate-routes.ts";

// Not an ESM import: that would build node:http's whole namespace and load undici (about 13 MB RSS).
const { createServer } = process.getBuiltinModule("node:http");

export interface ApiDeps {
  supervisor: Supervisor;
  store: Store;
  /** Config changes as migrations (GET /v1/config, POST /v1/config/apply). */
  migrator: Migrator;
  token: string;
  /** Asks the daemon to stop everything and exit. */
  shutdown: () => void;
  /** Amendments, penalties and strict mode; without it those routes answer 404. */
  constitution?: Constitution;
  /** Each agent's current virtual key (an apply may add agents, a rotation replaces one), for agent routes. */
  agentKeys?: () => Record<string, string>;
  /** Key rotation (POST /v1/agents/:name/key/rotate); without it that route answers 404. */
  keys?: KeyRotation;
  /** The oversight pass (runs, findings, acknowledgements); without it those routes answer 404. */
  oversight?: OversightRouteDeps;
  /** The code gate's routes (an agent's key or the token); without it they answer 404. */
  gate?: GateDeps;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The status shape `flotilla status --json` promises. */
async function publicStatus(
  supervisor: Supervisor,
  constitution: Constitution | undefined,
  usage: UsageSampler,
  oversight: OversightRouteDeps | undefined,
  withUsage = true,
) {
  const strict = constitution?.strictModes() ?? new Map<string, unknown>();
  const statuses = supervisor.status();
  // CPU use needs two samples some 200 ms apart; a probe that only wants states asks for none (?usage=0).
  const used = withUsage
    ? await usage.sample(statuses.flatMap((s) => (s.pid === null ? [] : [s.pid])))
    : new Map<number, null>();
  return {
    agents: statuses.map((s) => ({
      name: s.name,
      state: s.state,
      pid: s.pid,
      port: s.port,
      uptimeSec: s.uptimeSec,
      restarts: s.restarts,
      health: {
        ok: s.health.ok,
        latencyMs: s.health.latencyMs,
        ...(s.health.error ? { error: s.health.error } : {}),
      },
      lastExit: s.lastExit,
      retryAt: s.retryAt,
      usage: s.pid === null ? null : (used.get(s.pid) ?? null),
      limits: s.limits,
      isolation: s.isolation,
      strict: strict.has(s.name),
    })),
    ...(oversight ? { oversight: oversightStatus(oversight) } : {}),
  };
}

function followLogs(req: IncomingMessage, res: ServerResponse, deps: ApiDeps, name: string, n: number): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  for (const line of deps.supervisor.tail(name, n)) res.write(`data: ${JSON.stringify(line)}\n\n`);
  const unsubscribe = deps.supervisor.subscribe(name, (line) =>
    res.write(`data: ${JSON.stringify(line)}\n\n`),
  );
  const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
  req.once("close", () => {
    clearInterval(keepAlive);
    unsubscribe();
  });
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  deps: ApiDeps,
  usage: UsageSampler,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const method = req.method ?? "GET";
  if (url.pathname === "/healthz") return send(res, 200, { ok: true });
  const caller = callerOf(req, deps.token, deps.agentKeys?.() ?? {});
  // Agent routes: the caller's own key, acting on that agent only.
  if (method === "POST" && url.pathname === "/v1/violations" && deps.constitution)
    return send(res, 201, await reportViolation(req, deps.constitution, requireAgent(caller)));
  // Oversight's routes tell the operator from an agent themselves (an agent may only acknowledge).
  if (deps.oversight) {
    const body = await oversightRoute(req, url, caller, deps.oversight);
    if (body !== undefined) return send(res, 200, body);
  }
  // The gate's routes: the agent pushing (its own key) or the operator.
  if (deps.gate && url.pathname.startsWith("/v1/gate/")) {
    const body = await gateRoute(req, url.pathname, caller, deps.gate);
    if (body !== undefined) return send(res, 200, body);
  }
  // Everything else is the operator's.
  requireOperator(caller);
  if (method === "GET" && url.pathname === "/v1/status")
    return send(
      res,
      200,
      await publicStatus(
        deps.supervisor,
        deps.constitution,
        usage,
        deps.oversight,
        url.searchParams.get("usage") !== "0",
      ),
    );
  if (method === "GET" && url.pathname === "/v1/events") {
    const limit = Number(url.searchParams.get("limit") ?? 100);
    const agent = url.searchParams.get("agent") ?? undefined;
    const kind = url.searchParams.get("kind") ?? undefined;
    return send(res, 200, {
      events: deps.store.query({ limit, ...(agent ? { agent } : {}), ...(kind ? { kindPrefix: kind } : {}) }),
    });
  }
  if (method === "GET" && url.pathname === "/v1/config") {
    const running = deps.migrator.running();
    return send(res, 200, { file: running.loaded.file, text: running.text });
  }
  if (method === "GET" && url.pathname === "/v1/config/progress")
    return send(res, 200, { progress: deps.migrator.progress() });
  if (method === "POST" && url.pathname === "/v1/config/apply") {
    // The CLI validated this body with the schema; the daemon only carries it out.
    return send(res, 200, await deps.migrator.apply((await readJson(req)) as ApplyRequest));
  }
  if (method === "POST" && url.pathname === "/v1/shutdown") {
    send(res, 202, { stopping: true });
    return deps.shutdown();
  }
  if (deps.constitution) {
    const body = await constitutionRoute(req, url.pathname, deps.constitution);
    if (body !== undefined) return send(res, 200, body);
  }
  const rotate = /^\/v1\/agents\/([a-z][a-z0-9-]*)\/key\/rotate$/.exec(url.pathname);
  if (rotate && method === "POST" && deps.keys)
    return send(res, 200, await deps.keys.rotate(rotate[1] ?? ""));
  const agentRoute = /^\/v1\/agents\/([a-z][a-z0-9-]*)\/(start|stop|restart|logs)$/.exec(url.pathname);
  if (agentRoute) {
    const [, name = "", action] = agentRoute;
    if (action === "logs" && method === "GET") {
      const asked = Number(url.searchParams.get("n") ?? 50);
      const n = Number.isInteger(asked) && asked >= 0 ? Math.min(10_000, asked) : 50;
      if (url.searchParams.get("follow") === "1") return followLogs(req, res, deps, name, n);
      return send(res, 200, { lines: deps.supervisor.tail(name, n) });
    }
    if (method === "POST") {
      if (action === "start") await deps.supervisor.start(name);
      else if (action === "stop") await deps.supervisor.stop(name);
      else await deps.supervisor.restart(name);
      return send(res, 200, { agent: deps.supervisor.agentStatus(name) });
    }
  }
  send(res, 404, { error: { code: "FLOTILLA_E_NOT_FOUND", message: `no route ${method} ${url.pathname}` } });
}

export function createApiServer(deps: ApiDeps) {
  const usage = createUsageSampler();
  const server = createServer((req, res) => {
    route(req, res, deps, usage).catch((err: unknown) => {
      if (res.headersSent) return void res.end();
      if (isFlotillaError(err))
        return send(res, err.status, { error: { code: err.code, message: err.message } });
      send(res, 500, { error: { code: "FLOTILLA_E_INTERNAL", message: (err as Error).message } });
    });
  });
  return {
    /** Listens on host:port (port 0 picks one); resolves with the base URL. */
    start(listen: string): Promise<string> {
      const index = listen.lastIndexOf(":");
      const host = listen.slice(0, index);
      const port = Number(listen.slice(index + 1));
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host, port }, () => {
          const address = server.address() as AddressInfo;
          resolve(`http://${host}:${address.port}`);
        });
      });
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
