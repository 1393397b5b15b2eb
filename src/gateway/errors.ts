/** Errors in the caller's own protocol, with an honest status and a Retry-After where one applies. */
import type { Http1Response } from "./http1/response.ts";
import { anthropicErrorBody, openaiErrorBody } from "./protocols/errors.ts";

export type ClientFormat = "openai" | "anthropic" | "responses";

export interface ErrorResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export function errorResponse(
  client: ClientFormat,
  status: number,
  message: string,
  options: { code?: string; type?: string; retryAfterMs?: number } = {},
): ErrorResponse {
  const headers: Record<string, string> = {};
  if (options.retryAfterMs !== undefined && Number.isFinite(options.retryAfterMs)) {
    headers["retry-after"] = String(Math.max(1, Math.ceil(options.retryAfterMs / 1000)));
    headers["retry-after-ms"] = String(Math.max(0, Math.round(options.retryAfterMs)));
  }
  const body =
    client === "anthropic"
      ? anthropicErrorBody(status, message)
      : openaiErrorBody(status, message, {
          ...(options.code ? { code: options.code } : {}),
          ...(options.type ? { type: options.type } : {}),
        });
  return { status, body, headers };
}

export function sendError(res: Http1Response, error: ErrorResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(error.body);
  res.writeHead(error.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...error.headers,
  });
  res.end(text);
}
