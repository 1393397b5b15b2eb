/** Errors in the caller's own protocol, with an honest status and a Retry-After where one applies. */
import type { ServerResponse } from "node:http";
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

/**
 * The server-sent event that ends a stream which broke off after it began, as each protocol reports an
 * error mid-stream (the official SDKs raise it as an API error).
 */
export function streamErrorEvent(client: ClientFormat, message: string): string {
  if (client === "anthropic")
    return `event: error\ndata: ${JSON.stringify(anthropicErrorBody(502, message))}\n\n`;
  if (client === "responses") {
    const event = { type: "error", code: "stream_broken", message, param: null };
    return `event: error\ndata: ${JSON.stringify(event)}\n\n`;
  }
  return `data: ${JSON.stringify(openaiErrorBody(502, message, { code: "stream_broken" }))}\n\n`;
}

export function sendError(res: ServerResponse, error: ErrorResponse): void {
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
