/** One attempt against one provider key: the URL and headers its protocol wants, a timeout, and the caller's abort. */
import type { FlotillaConfig } from "../config/schema.ts";

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
  { ok: true; response: Response } | { ok: false; kind: "timeout" | "refused" | "network"; message: string };

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

/** Sends the request; resolves with the response once its headers arrived, or says how it failed. */
export async function sendAttempt(attempt: Attempt): Promise<AttemptResult> {
  const timeout = AbortSignal.timeout(attempt.provider.timeout);
  try {
    const response = await fetch(endpoint(attempt.provider), {
      method: "POST",
      headers: headers(attempt),
      body: JSON.stringify(attempt.body),
      signal: AbortSignal.any([attempt.signal, timeout]),
    });
    return { ok: true, response };
  } catch (err) {
    if (timeout.aborted)
      return { ok: false, kind: "timeout", message: `no answer within ${attempt.provider.timeout}ms` };
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === "ECONNREFUSED") return { ok: false, kind: "refused", message: "connection refused" };
    return { ok: false, kind: "network", message: cause?.code ?? (err as Error).message };
  }
}
