/**
 * One attempt against one provider key, over a keep-alive HTTP/1.1 pool: the URL and headers the provider's protocol
 * wants, a timeout over the whole attempt, and the caller's abort.
 */
import type { FlotillaConfig } from "../config/schema.ts";
import { type HeaderRecord, headerValue } from "./header-record.ts";
import { type Exchange, type ExchangeHandler, Http1Pool } from "./http1/connection-pool.ts";
import { ProtocolError } from "./http1/message-heads.ts";
import { ResponseBody } from "./response-body.ts";
import type { CancelSignal } from "./cancel-signal.ts";

export type Provider = FlotillaConfig["providers"][number];

export interface Attempt {
  provider: Provider;
  apiKey: string;
  /** The request body, already encoded for the provider's protocol. */
  payload: Buffer;
  /** anthropic-version / anthropic-beta from the client, passed through. */
  passHeaders: Record<string, string>;
  signal: CancelSignal;
}

export type AttemptResult =
  | { ok: true; response: UpstreamResponse }
  | { ok: false; kind: "timeout" | "refused" | "network"; message: string };

/** An upstream answer once its headers arrived: the parts of a fetch `Response` the router and relay read. */
export interface UpstreamResponse {
  status: number;
  ok: boolean;
  /** Lower-cased names; a repeated header is an array. */
  headers: HeaderRecord;
  /** The body as it arrives (decompressed); read it once, iterated or with text() or bytes(). */
  body: ResponseBody;
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
  pool: Http1Pool;
  path: string;
}

// One keep-alive pool per provider.
const routes = new WeakMap<Provider, Route>();

function routeOf(provider: Provider): Route {
  let route = routes.get(provider);
  if (!route) {
    const url = new URL(endpoint(provider));
    route = { pool: new Http1Pool(url.origin), path: `${url.pathname}${url.search}` };
    routes.set(provider, route);
  }
  return route;
}

/** Why the attempt's timer or the caller ended it. */
class AttemptEnded extends Error {}

function timeUp(handler: AttemptHandler): void {
  handler.timeUp();
}

/**
 * One attempt's exchange handler, and the abort listener on the caller's signal (`handleEvent`): a class
 * rather than closures, since one is made for every request.
 */
class AttemptHandler implements ExchangeHandler {
  readonly #attempt: Attempt;
  readonly #resolve: (result: AttemptResult) => void;
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #exchange: Exchange;
  #body: ResponseBody | undefined;
  #settled = false;
  #timedOut = false;

  /** Sends the request; throws TypeError, before sending, for a header HTTP cannot carry. */
  constructor(attempt: Attempt, route: Route, resolve: (result: AttemptResult) => void) {
    this.#attempt = attempt;
    this.#resolve = resolve;
    const { payload } = attempt;
    this.#exchange = route.pool.request(route.path, headers(attempt, payload.length), payload, this);
    this.#timer = setTimeout(timeUp, attempt.provider.timeout, this);
    this.#timer.unref();
    attempt.signal.addEventListener("abort", this, { once: true });
  }

  timeUp(): void {
    this.#timedOut = true;
    this.#exchange.abort(new AttemptEnded(`no answer within ${this.#attempt.provider.timeout}ms`));
  }

  /** The caller's signal fired. */
  handleEvent(): void {
    this.#exchange.abort(new AttemptEnded("the caller went away"));
  }

  onHead(status: number, headers: HeaderRecord): void {
    this.#settled = true;
    const body = new ResponseBody(this.#exchange, headerValue(headers, "content-encoding"));
    this.#body = body;
    this.#resolve({ ok: true, response: { status, ok: status < 300, headers, body } });
  }

  onData(chunk: Buffer): void {
    this.#body?.push(chunk);
  }

  onEnd(): void {
    this.#done();
    this.#body?.end();
  }

  onError(err: Error & { code?: string }): void {
    this.#done();
    if (this.#body) return this.#body.fail(err);
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timedOut) this.#resolve({ ok: false, kind: "timeout", message: err.message });
    else if (err.code === "ECONNREFUSED")
      this.#resolve({ ok: false, kind: "refused", message: "connection refused" });
    else if (err instanceof ProtocolError)
      this.#resolve({ ok: false, kind: "network", message: `broken HTTP: ${err.message}` });
    else this.#resolve({ ok: false, kind: "network", message: err.code ?? err.message });
  }

  #done(): void {
    clearTimeout(this.#timer);
    this.#attempt.signal.removeEventListener("abort", this);
  }
}

/**
 * Sends the request; resolves with the response once its headers arrived, or says how it failed. The
 * provider's timeout covers the whole attempt, body included; the caller's abort ends it at any point.
 */
export function sendAttempt(attempt: Attempt): Promise<AttemptResult> {
  const route = routeOf(attempt.provider);
  return new Promise((resolve) => {
    if (attempt.signal.aborted)
      return resolve({ ok: false, kind: "network", message: "the caller went away" });
    try {
      new AttemptHandler(attempt, route, resolve);
    } catch (err) {
      resolve({ ok: false, kind: "network", message: (err as Error).message });
    }
  });
}
