/** Scripted per-key provider errors with the bodies and headers real providers send: rate limits, quota, billing, revoked keys. */
import type { KeyFault } from "./options.ts";
import { errorBody, type Format } from "./wire.ts";

export interface FaultAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** OpenAI's answer when the account's quota is spent (a 429 that waiting does not cure). */
const OPENAI_QUOTA = {
  error: {
    message: "You exceeded your current quota, please check your plan and billing details.",
    type: "insufficient_quota",
    param: null,
    code: "insufficient_quota",
  },
};

/** Anthropic's answer when the credit balance is spent: a 400, not a 429. */
const ANTHROPIC_CREDIT = {
  type: "error",
  error: {
    type: "invalid_request_error",
    message:
      "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
  },
};

function retryHeaders(fault: KeyFault): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.retryAfterHeader !== "ms") headers["retry-after"] = String(Math.ceil(fault.retryAfterMs / 1000));
  if (fault.retryAfterHeader !== "seconds") headers["retry-after-ms"] = String(fault.retryAfterMs);
  return headers;
}

export function faultAnswer(format: Format, fault: KeyFault): FaultAnswer {
  switch (fault.kind) {
    case "rate_limited":
      return {
        status: 429,
        body: errorBody(format, 429, "rate limit reached for requests", "requests"),
        headers: retryHeaders(fault),
      };
    case "quota":
      return format === "openai"
        ? { status: 429, body: OPENAI_QUOTA, headers: {} }
        : { status: 400, body: ANTHROPIC_CREDIT, headers: {} };
    case "billing":
      return {
        status: 402,
        body:
          format === "anthropic"
            ? {
                type: "error",
                error: { type: "billing_error", message: "There is an issue with your billing." },
              }
            : {
                error: {
                  message: "Billing hard limit reached",
                  type: "billing_error",
                  param: null,
                  code: "billing_hard_limit_reached",
                },
              },
        headers: {},
      };
    case "revoked":
      return { status: 401, body: errorBody(format, 401, "invalid x-api-key"), headers: {} };
    case "forbidden":
      return {
        status: 403,
        body:
          format === "anthropic"
            ? {
                type: "error",
                error: {
                  type: "permission_error",
                  message: "Your API key does not have permission to use the specified resource.",
                },
              }
            : {
                error: {
                  message: "You are not allowed to use this model.",
                  type: "invalid_request_error",
                  param: null,
                  code: "model_not_allowed",
                },
              },
        headers: {},
      };
    case "server_error":
      return { status: 500, body: errorBody(format, 500, "simulated server error"), headers: {} };
  }
}

/** The scripted faults of every key, consumed request by request (a fault with `times` runs out). */
export function createKeyFaults(initial: Record<string, KeyFault | undefined>) {
  const faults = new Map<string, { fault: KeyFault; left: number }>();
  const set = (key: string, fault: KeyFault | undefined) => {
    if (fault) faults.set(key, { fault, left: fault.times ?? Number.POSITIVE_INFINITY });
    else faults.delete(key);
  };
  for (const [key, fault] of Object.entries(initial)) set(key, fault);
  return {
    set,
    /** The fault this request on `key` meets, if any; counts it down. */
    take(key: string): KeyFault | undefined {
      const entry = faults.get(key);
      if (!entry) return undefined;
      if (--entry.left <= 0) faults.delete(key);
      return entry.fault;
    },
  };
}
