/**
 * The credential behind one provider key: a static API key, or an OAuth2 refresh token traded for
 * short-lived access tokens (RFC 6749 §6). An access token is refreshed before it expires, in the
 * background while it is still valid, and never by more than one refresh at a time per credential.
 */
import { type Dispatcher, request } from "undici";
import type { Clock } from "./limiter/clock.ts";

export interface OAuthSettings {
  tokenUrl: string;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  scope?: string | undefined;
  /** ms before expiry at which a refresh starts (capped at half the token's lifetime). */
  refreshBefore: number;
  /** The provider's connection pool (proxy settings included); undici's global one when absent. */
  dispatcher?: Dispatcher | undefined;
}

export interface Credential {
  /** The secret to send now: a string when one is at hand, else the refresh that brings one. */
  current(): string | Promise<string>;
  /**
   * The provider refused `rejected`. True when another try is worth it: a newer token is (being) fetched, or
   * the refused one was not fresh. False when even a fresh token is refused, or the key is static.
   */
  renew(rejected: string): boolean;
}

/** The token endpoint refused (permanent: the refresh token itself is bad) or could not be reached. */
export class CredentialError extends Error {
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean) {
    super(message);
    this.name = "CredentialError";
    this.permanent = permanent;
  }
}

const REFRESH_TIMEOUT_MS = 15_000; // one call to the token endpoint
const MAX_TOKEN_ANSWER = 64 * 1024; // bytes of a token endpoint's answer read; a token answer is a few hundred
const DEFAULT_TTL_S = 3_600; // when the endpoint leaves out expires_in
const BACKGROUND_RETRY_MS = 5_000; // a failed background refresh is tried again after this long, not per request
const FRESH_MS = 5_000; // a token refused within this long of its issue means the credential itself is bad
const PERMANENT = new Set([
  "invalid_grant",
  "invalid_client",
  "unauthorized_client",
  "unsupported_grant_type",
]);

/** The answer's JSON object, or undefined when it is not JSON or passes MAX_TOKEN_ANSWER bytes. */
async function boundedJson(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_TOKEN_ANSWER) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function staticCredential(secret: string): Credential {
  return { current: () => secret, renew: () => false };
}

export function oauthCredential(
  settings: OAuthSettings,
  refreshToken: string,
  clock: Clock,
  event: (kind: string, data: Record<string, unknown>) => void,
): Credential {
  let token: string | undefined;
  let issuedAt = 0;
  let expiresAt = 0;
  let refreshAt = 0;
  let inFlight: Promise<string> | undefined;
  let retryAt = 0;

  async function refresh(): Promise<string> {
    const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken });
    if (settings.clientId) form.set("client_id", settings.clientId);
    if (settings.clientSecret) form.set("client_secret", settings.clientSecret);
    if (settings.scope) form.set("scope", settings.scope);
    let status: number;
    let body: Record<string, unknown> | undefined;
    try {
      const response = await request(settings.tokenUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: form.toString(),
        signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS),
        ...(settings.dispatcher ? { dispatcher: settings.dispatcher } : {}),
      });
      status = response.statusCode;
      body = await boundedJson(response.body);
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string } };
      throw new CredentialError(`token endpoint unreachable (${e.code ?? e.cause?.code ?? e.name})`, false);
    }
    if (status < 200 || status >= 300 || typeof body?.access_token !== "string") {
      const code = typeof body?.error === "string" ? body.error : `HTTP ${status}`;
      throw new CredentialError(`token refresh refused (${code})`, PERMANENT.has(code));
    }
    const ttlMs = (Number(body.expires_in) > 0 ? Number(body.expires_in) : DEFAULT_TTL_S) * 1000;
    // A rotating server hands out a new refresh token with each access token; the old one is spent.
    if (typeof body.refresh_token === "string" && body.refresh_token) refreshToken = body.refresh_token;
    token = body.access_token;
    issuedAt = clock.now();
    expiresAt = issuedAt + ttlMs;
    refreshAt = expiresAt - Math.min(settings.refreshBefore, ttlMs / 2);
    event("gateway.token_refreshed", { expiresInMs: ttlMs });
    return token;
  }

  function start(): Promise<string> {
    inFlight ??= refresh()
      .catch((err: unknown) => {
        const permanent = err instanceof CredentialError && err.permanent;
        retryAt = clock.now() + BACKGROUND_RETRY_MS;
        event("gateway.token_refresh_failed", { error: (err as Error).message, permanent });
        throw err;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  return {
    current() {
      const now = clock.now();
      if (token !== undefined && now < expiresAt) {
        // Still valid: use it, and refresh in the background once inside the margin.
        if (now >= refreshAt && now >= retryAt) start().catch(() => {});
        return token;
      }
      return start();
    },
    renew(rejected) {
      if (rejected !== token) return true;
      if (clock.now() - issuedAt < FRESH_MS) return false;
      token = undefined;
      return true;
    },
  };
}
