/** One attempt against one provider key: the URL and headers its protocol wants, a timeout, and the caller's abort. */
import type { Agent, IncomingMessage, RequestOptions } from "node:http";
import type { Readable } from "node:stream";
import type { FlotillaConfig } from "../config/schema.ts";
import { type HeaderRecord, headerValue } from "./header-record.ts";

// Not ESM imports: node:http's namespace loads undici, which this client exists to avoid.
const http = process.getBuiltinModule("node:http");
const https = process.getBuiltinModule("node:https");

export type Provider = FlotillaConfig["providers"][number];

export interface Attempt {
  provider: Provider;
  apiKey: string;
  body: Record<string, unknown>;
  /** anthropic-version / anthropic-beta from the client, passed through. */
  passHeaders: Record<string, string>;
  signal: AbortSignal;
}

export type AttemptResult =
  | { ok: true; response: UpstreamResponse }
  | { ok: false; kind: "timeout" | "refused" | "network"; message: string };

function endpoint(provider: Provider): string {
  const base = provider.baseUrl.replace(/\/$/, "");
  return provider.kind === "openai" ? `${base}/chat/completions` : `${base.replace(/\/v1$/, "")}/v1/messages`;
}

function headers(attempt: Attempt): Record<string, string> {
  if (attempt.provider.kind === "openai") {
    return { "content-type": "application/json", authorization: `Bearer ${attempt.apiKey}` };
  }
  // An OAuth2 access token goes in Authorization; a plain Anthropic key in x-api-key.
  const credential: Record<string, string> = attempt.provider.auth
    ? { authorization: `Bearer ${attempt.apiKey}` }
    : { "x-api-key": attempt.apiKey };
  return {
    "content-type": "application/json",
    ...credential,
    "anthropic-version": attempt.passHeaders["anthropic-version"] ?? "2023-06-01",
    ...(attempt.passHeaders["anthropic-beta"]
      ? { "anthropic-beta": attempt.passHeaders["anthropic-beta"] }
      : {}),
  };
}

/** An upstream answer once its headers arrived: the parts of a fetch `Response` the router and relay read. */
export interface UpstreamResponse {
  status: number;
  ok: boolean;
  /** As node:http parsed them: lower-cased names. */
  headers: HeaderRecord;
  /** The body as it arrives (decompressed); read it once, as a stream or with text(). */
  body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
}

/** Why the attempt's timer or the caller ended it. */
class AttemptEnded extends Error {}

interface Route {
  https: boolean;
  /** node:http request options, worked out once per provider rather than from a URL on every request. */
  options: RequestOptions;
}

// One keep-alive connection pool per provider, like fetch's global dispatcher, but node:http's client costs
// about half of fetch's CPU per request (no WHATWG streams), which is most of a pass-through's own work.
const routes = new WeakMap<Provider, Route>();

function routeOf(provider: Provider): Route {
  let route = routes.get(provider);
  if (!route) {
    const url = new URL(endpoint(provider));
    const secure = url.protocol === "https:";
    const agent: Agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    route = {
      https: secure,
      options: {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: "POST",
        agent,
      },
    };
    routes.set(provider, route);
  }
  return route;
}

function decoded(res: IncomingMessage, encoding: string | undefined): Readable {
  if (encoding !== "gzip" && encoding !== "br" && encoding !== "deflate") return res;
  const zlib = process.getBuiltinModule("node:zlib");
  const inflate =
    encoding === "gzip"
      ? zlib.createGunzip()
      : encoding === "br"
        ? zlib.createBrotliDecompress()
        : zlib.createInflate();
  res.on("error", (err) => inflate.destroy(err));
  return res.pipe(inflate);
}

function toResponse(res: IncomingMessage): UpstreamResponse {
  const { headers } = res;
  const status = res.statusCode ?? 502;
  const body = decoded(res, headerValue(headers, "content-encoding"));
  return {
    status,
    ok: status >= 200 && status < 300,
    headers,
    body,
    text() {
      // Plain events rather than an async iterator: every non-streamed answer is read this way.
      return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        body.on("data", (chunk: Buffer) => chunks.push(chunk));
        body.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        body.once("error", reject);
      });
    },
  };
}

/**
 * Sends the request; resolves with the response once its headers arrived, or says how it failed. The
 * provider's timeout covers the whole attempt, body included; the caller's abort ends it at any point.
 */
export function sendAttempt(attempt: Attempt): Promise<AttemptResult> {
  const route = routeOf(attempt.provider);
  const payload = Buffer.from(JSON.stringify(attempt.body));
  const client = route.https ? https : http;
  return new Promise((resolve) => {
    let timedOut = false;
    const req = client.request({
      ...route.options,
      headers: { ...headers(attempt), "content-length": payload.length },
    });
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new AttemptEnded(`no answer within ${attempt.provider.timeout}ms`));
    }, attempt.provider.timeout);
    timer.unref();
    const onAbort = () => req.destroy(new AttemptEnded("the caller went away"));
    attempt.signal.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      attempt.signal.removeEventListener("abort", onAbort);
    };
    req.once("response", (res) => {
      res.once("close", done);
      res.on("error", () => {}); // whoever reads the body hears of it; unread, it must not crash the gateway
      resolve({ ok: true, response: toResponse(res) });
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      done();
      if (timedOut)
        return resolve({
          ok: false,
          kind: "timeout",
          message: `no answer within ${attempt.provider.timeout}ms`,
        });
      if (err.code === "ECONNREFUSED")
        return resolve({ ok: false, kind: "refused", message: "connection refused" });
      resolve({ ok: false, kind: "network", message: err.code ?? err.message });
    });
    if (attempt.signal.aborted) onAbort();
    else req.end(payload);
  });
}
