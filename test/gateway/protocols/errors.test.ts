/** Error bodies in each protocol: the type for every status the gateway sends. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  anthropicErrorBody,
  openaiErrorBody,
  responsesErrorBody,
  upstreamErrorMessage,
} from "../../../src/gateway/protocols/errors.ts";

test("anthropic error types follow the status", () => {
  const cases: [number, string][] = [
    [400, "invalid_request_error"],
    [401, "authentication_error"],
    [403, "permission_error"],
    [404, "not_found_error"],
    [413, "request_too_large"],
    [429, "rate_limit_error"],
    [500, "api_error"],
    [502, "api_error"],
    [503, "overloaded_error"],
    [529, "overloaded_error"],
    [422, "invalid_request_error"],
  ];
  for (const [status, type] of cases) {
    assert.deepEqual(
      anthropicErrorBody(status, "why"),
      { type: "error", error: { type, message: "why" } },
      String(status),
    );
  }
});

test("openai error types and codes follow the status; the caller can say quota", () => {
  const cases: [number, string, string | null][] = [
    [400, "invalid_request_error", null],
    [401, "authentication_error", "invalid_api_key"],
    [404, "invalid_request_error", "not_found"],
    [429, "rate_limit_exceeded", "rate_limit_exceeded"],
    [500, "server_error", null],
    [503, "server_error", null],
  ];
  for (const [status, type, code] of cases) {
    assert.deepEqual(
      openaiErrorBody(status, "why"),
      { error: { message: "why", type, param: null, code } },
      String(status),
    );
  }
  assert.deepEqual(
    openaiErrorBody(429, "out of credit", { type: "insufficient_quota", code: "insufficient_quota" }),
    {
      error: {
        message: "out of credit",
        type: "insufficient_quota",
        param: null,
        code: "insufficient_quota",
      },
    },
  );
  assert.deepEqual(responsesErrorBody(500, "x"), openaiErrorBody(500, "x"));
});

test("the message of an upstream error body is found in either shape", () => {
  assert.equal(upstreamErrorMessage(openaiErrorBody(429, "slow down")), "slow down");
  assert.equal(upstreamErrorMessage(anthropicErrorBody(529, "Overloaded")), "Overloaded");
  assert.equal(upstreamErrorMessage({ error: "plain" }), "plain");
  assert.equal(upstreamErrorMessage("<html>502</html>"), undefined);
  assert.equal(upstreamErrorMessage({ detail: "x" }), undefined);
});
