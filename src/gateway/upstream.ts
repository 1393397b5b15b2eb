/**
 * One attempt against one provider key, over undici's dispatcher: the URL and headers the provider's protocol
 * wants, a timeout over the whole attempt, and the caller's abort.
 */
import type { Dispatcher } from "undici";
import { Pool } from "undici";
import type { FlotillaConfig } from "../config/schema.ts";
import { type HeaderRecord, headerValue } from "./header-record.ts";
import { type ResponseBody, createResponseBody } from "./response-body.ts";

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

/** An upstream answer once its headers arrived: the parts of a fetch `Response` the router and relay read. */
export interface UpstreamResponse {
  status: number;
  ok: boolean;
  /** Lower-cased names, as node:http and undici parse them. */
  headers: HeaderRecord;
  /** The body as it arrives (decompressed); read it once, as a stream or with text(). */
  body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
}

function endpoint(provider: Provider): string {
  const base = provider.baseUrl.replace(/\/$/, "");
  return provider.kind === "openai" ? `${base}/chat/completions` : `${base.replace(/\/v1$/, "")}/v1/messages`;
}

function headers(attempt: Attempt, length: number): Record<string, string> {
  if (attempt.provider.kind === "openai") {
    return {
      "content-type": "application/json",
      "content-length": String(length),
      authorization: `Bearer ${attempt.apiKey}`,
    };
  }
  // An OAuth2 access token goes in Authorization; a plain Anthropic key in x-api-key.
  const credential: Record<string, string> = attempt.provider.auth
    ? { authorization: `Bearer ${attempt.apiKey}` }
    : { "x-api-key": attempt.apiKey };
  return {
    "content-type": "application/json",
    "content-length": String(length),
    ...credential,
    "anthropic-version": attempt.passHeaders["anthropic-version"] ?? "2023-06-01",
    ...(attempt.passHeaders["anthropic-beta"]
      ? { "anthropic-beta": attempt.passHeaders["anthropic-beta"] }
      : {}),
  };
}

interface Route {
  pool: Pool;
  path: string;
}

// One keep-alive pool per provider. undici's dispatcher costs about half of node:http's client CPU per
// request, and the client is most of a pass-through's own work. Its own timers are off: the provider's
// timeout below covers the whole attempt.
const routes = new WeakMap<Provider, Route>();

function routeOf(provider: Provider): Route {
  let route = routes.get(provider);
  if (!route) {
    const url = new URL(endpoint(provider));
    const pool = new Pool(url.origin, { headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 30_000 });
    route = { pool, path: `${url.pathname}${url.search}` };
    routes.set(provider, route);
  }
  return route;
}

/** Why the attempt's timer or the caller ended it. */
class AttemptEnded extends Error {}

/**
 * Sends the request; resolves with the response once its headers arrived, or says how it failed. The
 * provider's timeout covers the whole attempt, body included; the caller's abort ends it at any point.
 */
export function sendAttempt(attempt: Attempt): Promise<AttemptResult> {
  const route = routeOf(attempt.provider);
  const payload = Buffer.from(JSON.stringify(attempt.body));
  return new Promise((resolve) => {
    let controller: Dispatcher.DispatchController | undefined;
    let body: ResponseBody | undefined;
    let ended: AttemptEnded | undefined;
    let settled = false;
    let timedOut = false;
    const onAbort = () => end(new AttemptEnded("the caller went away"));
    const timer = setTimeout(() => {
      timedOut = true;
      end(new AttemptEnded(`no answer within ${attempt.provider.timeout}ms`));
    }, attempt.provider.timeout);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      attempt.signal.removeEventListener("abort", onAbort);
    };
    function fail(err: Error & { code?: string }): void {
      done();
      if (body) return body.fail(err);
      if (settled) return;
      settled = true;
      if (timedOut) resolve({ ok: false, kind: "timeout", message: err.message });
      else if (err.code === "ECONNREFUSED")
        resolve({ ok: false, kind: "refused", message: "connection refused" });
      else resolve({ ok: false, kind: "network", message: err.code ?? err.message });
    }
    // Before undici hands over its controller (the request waits for a connection) an end is remembered and
    // applied once it does; the promise settles at once either way.
    function end(reason: AttemptEnded): void {
      ended ??= reason;
      if (controller) controller.abort(ended);
      else fail(ended);
    }
    if (attempt.signal.aborted) return onAbort();
    attempt.signal.addEventListener("abort", onAbort, { once: true });
    route.pool.dispatch(
      { path: route.path, method: "POST", headers: headers(attempt, payload.length), body: payload },
      {
        onRequestStart(started) {
          controller = started;
          if (ended) started.abort(ended);
        },
        onResponseStart(started, status, responseHeaders) {
          if (status < 200 || settled) return;
          settled = true;
          const record = responseHeaders as HeaderRecord;
          body = createResponseBody(started, headerValue(record, "content-encoding"));
          const response = { status, ok: status < 300, headers: record, body, text: body.text };
          resolve({ ok: true, response });
        },
        onResponseData(_controller, chunk) {
          body?.push(chunk);
        },
        onResponseEnd() {
          done();
          body?.end();
        },
        onResponseError(_controller, err) {
          fail(err);
        },
      },
    );
  });
}
