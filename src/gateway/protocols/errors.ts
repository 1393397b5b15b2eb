/** Error bodies in each client protocol, so a failure reads to the agent like its own provider's. */
import type { AnthropicErrorBody } from "./anthropic-types.ts";
import type { ChatErrorBody } from "./openai-types.ts";
import type { ResponsesErrorBody } from "./responses-types.ts";

/** The OpenAI `error.type` for a status; 429 means rate limited unless the caller says quota. */
export function openaiErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_exceeded";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** The default OpenAI `error.code` for a status, or null where OpenAI sends none. */
function openaiErrorCode(status: number): string | null {
  if (status === 401) return "invalid_api_key";
  if (status === 404) return "not_found";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_exceeded";
  return null;
}

/**
 * `{ error: { message, type, param, code } }` as OpenAI sends it. Pass
 * `{ type: "insufficient_quota", code: "insufficient_quota" }` for a 429 that waiting will not fix.
 */
export function openaiErrorBody(
  status: number,
  message: string,
  options: { type?: string; code?: string } = {},
): ChatErrorBody {
  return {
    error: {
      message,
      type: options.type ?? openaiErrorType(status),
      param: null,
      code: options.code ?? openaiErrorCode(status),
    },
  };
}

/** The Responses API reports errors in the OpenAI shape. */
export function responsesErrorBody(
  status: number,
  message: string,
  options: { type?: string; code?: string } = {},
): ResponsesErrorBody {
  return openaiErrorBody(status, message, options);
}

const ANTHROPIC_TYPES: Readonly<Record<number, string>> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/** The Anthropic `error.type` for a status; unlisted 4xx are invalid requests, 5xx API errors. */
export function anthropicErrorType(status: number): string {
  return (
    ANTHROPIC_TYPES[status] ??
    (status === 503 ? "overloaded_error" : status >= 500 ? "api_error" : "invalid_request_error")
  );
}

/** `{ type: "error", error: { type, message } }` as Anthropic sends it. */
export function anthropicErrorBody(status: number, message: string): AnthropicErrorBody {
  return { type: "error", error: { type: anthropicErrorType(status), message } };
}

/** The message inside an upstream error body of either shape, to pass on when the chain is exhausted. */
export function upstreamErrorMessage(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("error" in body)) return undefined;
  const error = body.error;
  if (typeof error === "string") return error;
  if (
    typeof error === "object" &&
    error !== null &&
    "message" in error &&
    typeof error.message === "string"
  ) {
    return error.message;
  }
  return undefined;
}
