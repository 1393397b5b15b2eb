/**
 * The simulator's OAuth2 token endpoint (RFC 6749 §6, the refresh_token grant): it trades a known refresh
 * token for a short-lived access token, and the access token then works as an API key until it expires.
 * Each refresh token is one credential: its access tokens share one set of limits.
 */
import type { IncomingMessage } from "node:http";
import type { KeyLimits, OAuthOptions } from "./options.ts";
import { createRateWindow, type RateWindow } from "./rate-window.ts";
import { readText } from "./request-body.ts";

export interface TokenAnswer {
  status: number;
  body: unknown;
}

export type Principal = { name: string; window: RateWindow } | { expired: true };

export function createTokenEndpoint(options: OAuthOptions, clock: () => number) {
  /** Live refresh tokens → the credential (the configured name) they stand for. */
  const refresh = new Map(Object.keys(options.refreshTokens).map((name) => [name, name]));
  const windows = new Map<string, RateWindow>();
  const access = new Map<string, { credential: string; expiresAt: number }>();
  const stats = { refreshes: 0, refused: 0, expiredUses: 0 };
  let issued = 0;

  function windowOf(credential: string): RateWindow {
    let window = windows.get(credential);
    if (!window) {
      window = createRateWindow(options.refreshTokens[credential] as KeyLimits, clock);
      windows.set(credential, window);
    }
    return window;
  }

  return {
    stats: () => ({ ...stats }),
    /** POST /oauth/token. */
    async handle(req: IncomingMessage): Promise<TokenAnswer> {
      const form = new URLSearchParams(await readText(req));
      if (options.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (form.get("grant_type") !== "refresh_token") {
        stats.refused++;
        return {
          status: 400,
          body: { error: "unsupported_grant_type", error_description: "only refresh_token is supported" },
        };
      }
      const presented = form.get("refresh_token") ?? "";
      const credential = refresh.get(presented);
      if (!credential) {
        stats.refused++;
        return {
          status: 400,
          body: {
            error: "invalid_grant",
            error_description: "the refresh token is unknown, revoked or used",
          },
        };
      }
      stats.refreshes++;
      const token = `sim-at-${++issued}-${clock().toString(36)}`;
      access.set(token, { credential, expiresAt: clock() + options.accessTokenTtlSec * 1000 });
      const body: Record<string, unknown> = {
        access_token: token,
        token_type: "Bearer",
        expires_in: options.accessTokenTtlSec,
      };
      if (options.rotate) {
        refresh.delete(presented);
        const next = `sim-rt-${issued}-${credential}`;
        refresh.set(next, credential);
        body.refresh_token = next;
      }
      return { status: 200, body };
    },
    /** The credential an access token stands for, `{ expired }` once it has lapsed, or undefined if unknown. */
    principal(token: string): Principal | undefined {
      const found = access.get(token);
      if (!found) return undefined;
      if (clock() >= found.expiresAt) {
        stats.expiredUses++;
        return { expired: true };
      }
      return { name: found.credential, window: windowOf(found.credential) };
    },
  };
}
