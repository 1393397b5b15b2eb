/**
 * One attempt against one provider key, over the provider's undici dispatcher: the URL and headers the
 * provider's protocol wants, a timeout over the whole attempt, and the caller's abort. An answer that cannot
 * carry a model's reply (1xx, 204, 304) fails the attempt like a broken connection.
 */
import type { Dispatcher } from "undici";
import type { FlotillaConfig } from "../config/schema.ts";
import type { CancelSignal } from "./cancel-signal.ts";
import { type HeaderRecord, headerValue } from "./header-record.ts";
import { ResponseBody } from "./response-body.ts";

export type Provider = FlotillaConfig["providers"][number];

export interface Attempt {
  provider: Provider;
  /** The provider's connection pool (upstream-dispatcher.ts). */
  dispatcher: Dispatcher;
  apiKey: string;
  /** The request body, already encoded for the provider's protocol. */
  payload: Buffer;
  /** anthropic-version / anthropic-beta from the client, passed through. */
  passHeaders: Record<string, string>;
  /** Largest answer read whole (decompressed bytes); see ResponseBody. */
  maxResponseSize: number;
  signal: CancelSignal;
}

export type AttemptResult =
  | { ok: true; response: UpstreamResponse }
  | { ok: false; kind: "timeout" | "refused" | "network"; message: string };

/** An upstream answer once its headers arrived: the parts of a fetch `Response` the router and relay read. */
export interface UpstreamResponse {
  status: number;
  ok: boolean;
  /** Lower-cased names, as undici parses them. */
  headers: HeaderRecord;
  /** The body as it arrives (decompressed); read it once, iterated or with text() or bytes(). */
  body: ResponseBody;
}

function endpoint(provider: Provider): string {
  const base = provider.baseUrl.replace(/\/$/, "");
  return provider.kind === "openai" ? `${base}/chat/completions` : `${base.replace(/\/v1$/, "")}/v1/messages`;
}

function headers(attempt: Attempt, length: number): Record<string, string> {
  // identity: a compressed answer would have to be inflated here; one that comes anyway is, under a cap.
  if (attempt.provider.kind === "openai") {
    return {
      "content-type": "application/json",
      "content-length": String(length),
      "accept-encoding": "identity",
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
    "accept-encoding": "identity",
    ...credential,
    "anthropic-version": attempt.passHeaders["anthropic-version"] ?? "2023-06-01",
    ...(attempt.passHeaders["anthropic-beta"]
      ? { "anthropic-beta": attempt.passHeaders["anthropic-beta"] }
      : {}),
  };
}

interface Target {
  origin: string;
  path: string;
}

// Each provider's origin and path, worked out once.
const targets = new WeakMap<Provider, Target>();

function targetOf(provider: Provider): Target {
  let target = targets.get(provider);
  if (!target) {
    const url = new URL(endpoint(provider));
    target = { origin: url.origin, path: `${url.pathname}${url.search}` };
    targets.set(provider, target);
  }
  return target;
}

/** Why the attempt's timer or the caller ended it, or why its answer is no answer. */
class AttemptEnded extends Error {}

function timeUp(handler: AttemptHandler): void {
  handler.timeUp();
}

/**
 * One attempt's undici handler, and the abort listener on the caller's signal (`handleEvent`): a class
 * rather than closures, since one is made for every request.
 */
class AttemptHandler implements Dispatcher.DispatchHandler {
  readonly #attempt: Attempt;
  readonly #resolve: (result: AttemptResult) => void;
  readonly #timer: ReturnType<typeof setTimeout>;
  #controller: Dispatcher.DispatchController | undefined;
  #body: ResponseBody | undefined;
  #ended: AttemptEnded | undefined;
  #settled = false;
  #timedOut = false;

  constructor(attempt: Attempt, resolve: (result: AttemptResult) => void) {
    this.#attempt = attempt;
    this.#resolve = resolve;
    this.#timer = setTimeout(timeUp, attempt.provider.timeout, this);
    this.#timer.unref();
    attempt.signal.addEventListener("abort", this, { once: true });
  }

  timeUp(): void {
    this.#timedOut = true;
    this.#end(new AttemptEnded(`no answer within ${this.#attempt.provider.timeout}ms`));
  }

  /** The caller's signal fired. */
  handleEvent(): void {
    this.#end(new AttemptEnded("the caller went away"));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#ended) controller.abort(this.#ended);
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: HeaderRecord): void {
    if (this.#settled) return;
    // No model answer comes as 1xx, 204 or 304; on a kept-alive connection a 304's body would be read as
    // the next answer, so the connection goes too.
    if (status < 200 || status === 204 || status === 304) {
      return this.#end(new AttemptEnded(`answered ${status}, which carries no model answer`));
    }
    this.#settled = true;
    const body = new ResponseBody(
      controller,
      headerValue(headers, "content-encoding"),
      this.#attempt.maxResponseSize,
    );
    this.#body = body;
    this.#resolve({ ok: true, response: { status, ok: status < 300, headers, body } });
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#body?.push(chunk);
  }

  onResponseEnd(): void {
    this.#done();
    this.#body?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#fail(err);
  }

  #fail(err: Error & { code?: string }): void {
    this.#done();
    if (this.#body) return this.#body.fail(err);
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timedOut) this.#resolve({ ok: false, kind: "timeout", message: err.message });
    else if (err.code === "ECONNREFUSED")
      this.#resolve({ ok: false, kind: "refused", message: "connection refused" });
    else if (err instanceof AttemptEnded) this.#resolve({ ok: false, kind: "network", message: err.message });
    else this.#resolve({ ok: false, kind: "network", message: describe(err) });
  }

  // Before undici hands over its controller (the request waits for a connection) an end is remembered and
  // applied once it does; the attempt settles at once either way.
  #end(reason: AttemptEnded): void {
    this.#ended ??= reason;
    if (this.#controller && !this.#controller.aborted) this.#controller.abort(this.#ended);
    this.#fail(this.#ended);
  }

  #done(): void {
    clearTimeout(this.#timer);
    this.#attempt.signal.removeEventListener("abort", this);
  }
}

/**
 * What went wrong, in undici's words but never the upstream's bytes: a parse error gives llhttp's reason (a
 * fixed text) and leaves out its `data`, which quotes what the upstream sent.
 */
function describe(err: Error & { code?: string; cause?: unknown }): string {
  if (err.name === "HTTPParserError") return `broken HTTP: ${err.message}`;
  const cause = err.cause as { code?: string } | undefined;
  const code = err.code ?? cause?.code ?? err.name;
  if (code === "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL")
    return `${code}: the provider speaks only HTTP/2; set http2: true on it`;
  // OpenSSL's own message is a library trace; its code says it all (a certificate problem, a TLS alert).
  if (code.startsWith("ERR_SSL_") || /CERT|SELF_SIGNED/.test(code)) return code;
  return `${code}: ${err.message}`;
}

/**
 * Sends the request; resolves with the response once its headers arrived, or says how it failed. The
 * provider's timeout covers the whole attempt, body included; the caller's abort ends it at any point.
 */
export function sendAttempt(attempt: Attempt): Promise<AttemptResult> {
  const { origin, path } = targetOf(attempt.provider);
  const { payload } = attempt;
  return new Promise((resolve) => {
    if (attempt.signal.aborted)
      return resolve({ ok: false, kind: "network", message: "the caller went away" });
    let handler: AttemptHandler;
    try {
      handler = new AttemptHandler(attempt, resolve);
      attempt.dispatcher.dispatch(
        { origin, path, method: "POST", headers: headers(attempt, payload.length), body: payload },
        handler,
      );
    } catch (err) {
      resolve({ ok: false, kind: "network", message: (err as Error).message });
    }
  });
}
