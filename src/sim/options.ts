/** The simulator's options: keys and their limits, latency, scripted answers and faults, validated from YAML or JSON. */
import { z } from "zod";

export const keyFaultSchema = z
  .strictObject({
    kind: z
      .enum(["rate_limited", "quota", "billing", "revoked", "forbidden", "server_error"])
      .describe(
        "rate_limited: 429 with Retry-After; quota: OpenAI insufficient_quota / Anthropic low credit; billing: 402; revoked: 401; forbidden: 403; server_error: 500",
      ),
    times: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Only the next N requests on this key; default all"),
    retryAfterMs: z.number().int().positive().prefault(1000).describe("rate_limited: how long to ask for"),
    retryAfterHeader: z
      .enum(["seconds", "ms", "both"])
      .prefault("both")
      .describe("rate_limited: send retry-after (seconds), retry-after-ms, or both"),
  })
  .describe("A scripted provider error for one key");

const limits = z.strictObject({
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
  rph: z.number().int().positive().optional(),
  tph: z.number().int().positive().optional(),
  concurrency: z.number().int().positive().optional(),
  fault: keyFaultSchema.optional(),
});

export const oauthSchema = z
  .strictObject({
    refreshTokens: z
      .record(z.string(), limits)
      .prefault({})
      .describe("Refresh tokens POST /oauth/token accepts, with the limits of the access tokens each yields"),
    accessTokenTtlSec: z.number().int().positive().prefault(3600).describe("Lifetime of an access token"),
    rotate: z
      .boolean()
      .prefault(false)
      .describe("Each refresh issues a new refresh token and retires the old"),
    delayMs: z.number().nonnegative().prefault(0).describe("Latency of the token endpoint"),
  })
  .describe("An OAuth2 token endpoint (refresh_token grant) for providers that use short-lived tokens");

export const faultsSchema = z.strictObject({
  errorRate: z.number().min(0).max(1).prefault(0).describe("Share of requests answered 500/503"),
  outages: z
    .array(
      z.strictObject({
        fromMs: z.number().nonnegative().describe("Start, ms after the simulator started"),
        toMs: z.number().nonnegative().describe("End, ms after the simulator started"),
      }),
    )
    .prefault([])
    .describe("Windows (ms after start) during which every request gets 503"),
  hangRate: z.number().min(0).max(1).prefault(0).describe("Share of requests accepted and never answered"),
  dropRate: z
    .number()
    .min(0)
    .max(1)
    .prefault(0)
    .describe("Share of responses whose socket is destroyed mid-way"),
  status: z.number().int().min(400).max(599).optional().describe("Answer every request with this status"),
});

export const simOptionsSchema = z.strictObject({
  keys: z
    .record(z.string(), limits)
    .prefault({ "sim-key": {} })
    .describe("Accepted API keys and their limits"),
  acceptAnyKey: z
    .boolean()
    .prefault(false)
    .describe("Accept any key (without limits), not only those listed"),
  models: z
    .array(z.string())
    .prefault(["sim-large", "sim-small"])
    .describe("Model names GET /v1/models lists"),
  latency: z
    .strictObject({
      firstTokenMs: z
        .number()
        .nonnegative()
        .prefault(0)
        .describe("Delay before the first byte of an answer (ms)"),
      jitterMs: z
        .number()
        .nonnegative()
        .prefault(0)
        .describe("Extra random delay, uniform in [0, jitterMs) (ms)"),
    })
    .prefault({})
    .describe("Latency distribution of answers"),
  chunkDelayMs: z.number().nonnegative().prefault(0).describe("Delay between stream frames (ms)"),
  words: z.number().int().positive().prefault(12).describe("Words in a generated answer"),
  seed: z
    .number()
    .int()
    .prefault(1)
    .describe("Seed of the random draws (latency, faults): runs repeat exactly"),
  script: z
    .array(
      z.strictObject({
        match: z
          .string()
          .optional()
          .describe("Applies when the last user message contains this; none: always"),
        reply: z.string().optional().describe("The text answer"),
        toolCall: z
          .strictObject({ name: z.string(), arguments: z.record(z.string(), z.unknown()) })
          .optional()
          .describe("A tool call to answer with while tools are offered"),
      }),
    )
    .prefault([])
    .describe("Scripted answers, first match wins; otherwise a deterministic sentence"),
  faults: faultsSchema.prefault({}).describe("Faults on every key"),
  oauth: oauthSchema.prefault({}),
});

export type SimOptions = z.output<typeof simOptionsSchema>;
export type SimOptionsInput = z.input<typeof simOptionsSchema>;
export type Faults = SimOptions["faults"];
export type KeyLimits = z.output<typeof limits>;
export type KeyFault = z.output<typeof keyFaultSchema>;
export type OAuthOptions = z.output<typeof oauthSchema>;
