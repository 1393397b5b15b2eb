/**
 * The provider simulator: OpenAI (/v1/chat/completions) and Anthropic (/v1/messages) on one server, with
 * per-key limits answered by real 429s and rate-limit headers, latency, streaming, tool calls and faults.
 * No real provider can be reached here; operators use it for drills.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createAnswerer, createRandom } from "./answers.ts";
import { createKeyFaults, faultAnswer } from "./key-faults.ts";
import {
  type Faults,
  type KeyFault,
  keyFaultSchema,
  type SimOptions,
  type SimOptionsInput,
  simOptionsSchema,
} from "./options.ts";
import { createRateWindow, type RateWindow } from "./rate-window.ts";
import { readJsonObject, readJsonRequest } from "./request-body.ts";
import { createTokenEndpoint } from "./token-endpoint.ts";
import {
  anthropicFrames,
  anthropicResponse,
  errorBody,
  type Format,
  openaiFrames,
  openaiResponse,
  rateHeaders,
} from "./wire.ts";

// Not an ESM import: node:http's namespace loads undici; the plain exports are enough here.
const { createServer } = process.getBuiltinModule("node:http");

export interface KeyStats {
  requests: number;
  ok: number;
  rateLimited: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function send(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function createSimulator(input: SimOptionsInput = {}, clock: () => number = Date.now) {
  const options: SimOptions = simOptionsSchema.parse(input);
  const random = createRandom(options.seed);
  const windows = new Map<string, RateWindow>(
    Object.entries(options.keys).map(([key, limits]) => [key, createRateWindow(limits, clock)]),
  );
  const stats = new Map<string, KeyStats>();
  const keyFaults = createKeyFaults({
    ...Object.fromEntries(Object.entries(options.keys).map(([key, limits]) => [key, limits.fault])),
    ...Object.fromEntries(
      Object.entries(options.oauth.refreshTokens).map(([name, limits]) => [name, limits.fault]),
    ),
  });
  const tokens = createTokenEndpoint(options.oauth, clock);
  let faults: Faults = options.faults;
  let startedAt = clock();
  let ids = 0;
  let inFlight = 0;
  const nextId = () => `sim_${(++ids).toString(36)}`;
  const answer = createAnswerer(options, nextId);

  function keyStats(key: string): KeyStats {
    let s = stats.get(key);
    if (!s)
      stats.set(
        key,
        (s = { requests: 0, ok: 0, rateLimited: 0, errors: 0, promptTokens: 0, completionTokens: 0 }),
      );
    return s;
  }

  function presented(req: IncomingMessage): string {
    const auth = req.headers.authorization;
    if (auth?.startsWith("Bearer ")) return auth.slice(7);
    const key = req.headers["x-api-key"];
    return typeof key === "string" ? key : "";
  }

  async function complete(format: Format, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // An API key, or an access token from /oauth/token (counted under its credential's name).
    let key = presented(req);
    let window = windows.get(key);
    const principal = window ? undefined : tokens.principal(key);
    if (principal && "expired" in principal)
      return send(res, 401, errorBody(format, 401, "the access token has expired"));
    if (principal) ({ name: key, window } = principal);
    if (!window && options.acceptAnyKey) windows.set(key, (window = createRateWindow({}, clock)));
    if (!window) return send(res, 401, errorBody(format, 401, "invalid API key"));
    const s = keyStats(key);
    s.requests++;
    if (format === "anthropic" && !req.headers["anthropic-version"]) {
      return send(res, 400, errorBody(format, 400, "anthropic-version: header is required"));
    }
    const { body, chars: promptChars } = await readJsonRequest(req);
    const messages = body?.messages;
    if (!body || !Array.isArray(messages) || messages.length === 0) {
      return send(res, 400, errorBody(format, 400, "messages: must be a non-empty array"));
    }
    const keyFault = keyFaults.take(key);
    if (keyFault) {
      if (keyFault.kind === "rate_limited") s.rateLimited++;
      else s.errors++;
      const scripted = faultAnswer(format, keyFault);
      return send(res, scripted.status, scripted.body, scripted.headers);
    }
    const elapsed = clock() - startedAt;
    if (faults.status !== undefined || faults.outages.some((o) => elapsed >= o.fromMs && elapsed < o.toMs)) {
      s.errors++;
      const status = faults.status ?? 503;
      return send(res, status, errorBody(format, status, "simulated outage"));
    }
    if (random() < faults.errorRate) {
      s.errors++;
      const status = random() < 0.5 ? 500 : 503;
      return send(res, status, errorBody(format, status, "simulated server error"));
    }
    if (random() < faults.hangRate) return; // accepted, never answered
    const tools = Array.isArray(body.tools)
      ? (body.tools as Array<{ name?: string; function?: { name?: string } }>)
      : [];
    const maxOut = Number(body.max_tokens ?? body.max_completion_tokens ?? 0) || 0;
    const estimated = Math.ceil(promptChars / 4) + Math.min(maxOut, 256);
    const admitted = window.take(estimated);
    if (!admitted.ok) {
      s.rateLimited++;
      return send(
        res,
        429,
        errorBody(format, 429, `rate limit reached for ${admitted.kind}`, admitted.kind),
        {
          "retry-after": String(Math.ceil(admitted.retryAfterMs / 1000)),
          "retry-after-ms": String(Math.ceil(admitted.retryAfterMs)),
          ...rateHeaders(format, window.state()),
        },
      );
    }
    inFlight++;
    try {
      const a = answer({
        messages,
        toolNames: tools.map((t) => t.function?.name ?? t.name ?? "tool"),
        promptChars,
      });
      s.promptTokens += a.promptTokens;
      s.completionTokens += a.completionTokens;
      const model = typeof body.model === "string" ? body.model : (options.models[0] ?? "sim");
      const id = format === "openai" ? `chatcmpl-${nextId()}` : `msg_${nextId()}`;
      const delay = options.latency.firstTokenMs + random() * options.latency.jitterMs;
      if (delay > 0) await sleep(delay);
      const headers = window.reportsLimits ? rateHeaders(format, window.state()) : {};
      headers["x-sim-request-id"] = id;
      const drop = random() < faults.dropRate;
      if (body.stream !== true) {
        if (drop) return void res.socket?.destroy();
        s.ok++;
        return send(
          res,
          200,
          format === "openai" ? openaiResponse(id, model, a) : anthropicResponse(id, model, a),
          headers,
        );
      }
      const includeUsage =
        (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      const frames =
        format === "openai" ? openaiFrames(id, model, a, includeUsage) : anthropicFrames(id, model, a);
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers });
      if (options.chunkDelayMs === 0 && !drop) {
        // Nothing to wait for between frames: one write (the same bytes, in one HTTP chunk).
        s.ok++;
        return void res.end(frames.join(""));
      }
      for (const [i, frame] of frames.entries()) {
        if (drop && i === Math.floor(frames.length / 2)) return void res.socket?.destroy();
        res.write(frame);
        if (options.chunkDelayMs > 0) await sleep(options.chunkDelayMs);
      }
      s.ok++;
      res.end();
    } finally {
      inFlight--;
      admitted.release();
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query < 0 ? url : url.slice(0, query);
    if (req.method === "POST" && (path === "/v1/chat/completions" || path === "/chat/completions"))
      return complete("openai", req, res);
    if (req.method === "POST" && path === "/v1/messages") return complete("anthropic", req, res);
    if (req.method === "GET" && (path === "/v1/models" || path === "/models")) {
      return send(res, 200, {
        object: "list",
        data: options.models.map((id) => ({ id, object: "model", owned_by: "sim" })),
      });
    }
    if (req.method === "POST" && path === "/oauth/token") {
      const issued = await tokens.handle(req);
      return send(res, issued.status, issued.body, { "cache-control": "no-store" });
    }
    if (req.method === "GET" && path === "/healthz") return send(res, 200, { ok: true });
    if (req.method === "GET" && path === "/_sim/stats") return send(res, 200, snapshot());
    if (req.method === "POST" && path === "/_sim/faults") {
      const patch = await readJsonObject(req);
      faults = { ...faults, ...(patch as Partial<Faults>) };
      return send(res, 200, { faults });
    }
    const keyFault = /^\/_sim\/keys\/([^/]+)\/fault$/.exec(path);
    if (req.method === "POST" && keyFault) {
      // A drill scripts one key's errors while the simulator runs; `{}` clears them; anything else must parse.
      const body = await readJsonObject(req);
      const key = decodeURIComponent(keyFault[1] as string);
      if (body && Object.keys(body).length === 0) {
        keyFaults.set(key, undefined);
        return send(res, 200, { key, fault: null });
      }
      const parsed = keyFaultSchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.join(".") || "body";
        return send(res, 400, {
          error: `${where}: ${issue?.message ?? "must be a JSON object"}; send {} to clear`,
        });
      }
      keyFaults.set(key, parsed.data);
      return send(res, 200, { key, fault: parsed.data });
    }
    if (req.method === "POST" && path === "/_sim/reset") {
      stats.clear();
      for (const [key, limits] of Object.entries(options.keys))
        windows.set(key, createRateWindow(limits, clock));
      return send(res, 200, { reset: true });
    }
    send(res, 404, { error: { message: `no route ${req.method} ${path}`, type: "not_found" } });
  }

  function snapshot() {
    const byKey = Object.fromEntries(stats);
    const sum = (field: keyof KeyStats) => [...stats.values()].reduce((total, s) => total + s[field], 0);
    return {
      requests: sum("requests"),
      ok: sum("ok"),
      rateLimited: sum("rateLimited"),
      errors: sum("errors"),
      inFlight,
      byKey,
      oauth: tokens.stats(),
    };
  }

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    handle(req, res).catch(() => res.destroy());
  });

  return {
    /** Listens on host:port (port 0 picks one); resolves with the base URL, e.g. http://127.0.0.1:PORT. */
    start(listen = "127.0.0.1:0"): Promise<string> {
      const index = listen.lastIndexOf(":");
      const host = listen.slice(0, index);
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host, port: Number(listen.slice(index + 1)) }, () => {
          startedAt = clock();
          resolve(`http://${host}:${(server.address() as AddressInfo).port}`);
        });
      });
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
    stats: snapshot,
    setFaults(patch: Partial<Faults>): void {
      faults = { ...faults, ...patch };
    },
    /** Scripts an error for one key (an API key, or an OAuth credential's refresh-token name); undefined clears it. */
    setKeyFault(key: string, fault: (Partial<KeyFault> & Pick<KeyFault, "kind">) | undefined): void {
      keyFaults.set(key, fault && { retryAfterMs: 1000, retryAfterHeader: "both", ...fault });
    },
  };
}

export type Simulator = ReturnType<typeof createSimulator>;
