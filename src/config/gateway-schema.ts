/** The gateway's part of flotilla.yaml: where it listens, the providers and their keys and limits, and the logical models. */
import { z } from "zod";
import { simOptionsSchema } from "../sim/options.ts";
import { duration, secretRef } from "./fields.ts";
import { parseSize, SIZE_PATTERN } from "./units.ts";

const count = z.number().int().positive();

/** A size such as "32M", parsed to bytes. */
const size = (fallback: string, what: string) =>
  z
    .string()
    .regex(SIZE_PATTERN, { message: `must be a size such as "${fallback}"` })
    .transform((text) => parseSize(text) ?? 0)
    .prefault(fallback)
    .describe(what);

/** A "HOST:PORT" listen address, defaulting to `fallback`. */
const listenAddress = (fallback: string) =>
  z
    .string()
    .regex(/^[^:]+:\d+$/, { message: `must be "HOST:PORT", such as "${fallback}"` })
    .prefault(fallback);

export const providerLimits = z
  .strictObject({
    rpm: count.optional().describe("Requests per minute, per key"),
    tpm: count.optional().describe("Tokens per minute, per key"),
    rph: count.optional().describe("Requests per hour, per key"),
    tph: count.optional().describe("Tokens per hour, per key"),
    concurrency: count.optional().describe("Requests in flight, per key"),
  })
  .describe("Limits the gateway keeps to for each key of this provider");

export const oauthSchema = z
  .strictObject({
    kind: z.literal("oauth2").describe("OAuth2 refresh-token grant (RFC 6749 §6)"),
    tokenUrl: z
      .url({ message: 'must be a URL such as "https://auth.example.com/oauth/token"' })
      .describe("Token endpoint the refresh token is traded at"),
    clientId: z.string().min(1).optional().describe("client_id sent with each refresh"),
    clientSecret: secretRef.optional().describe("client_secret sent with each refresh, as a reference"),
    scope: z.string().min(1).optional().describe("scope sent with each refresh"),
    refreshBefore: duration("60s")
      .prefault("60s")
      .describe("Refresh this long before the access token expires (at most half its lifetime)"),
  })
  .describe("Short-lived access tokens: each keys entry is then a refresh token");

const price = z
  .strictObject({
    input: z.number().nonnegative().describe("USD per million input tokens"),
    output: z.number().nonnegative().describe("USD per million output tokens"),
  })
  .describe("Price of one model");

export const providerSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/, { message: "must be lower-case letters, digits and dashes" })
      .describe("Provider id that model chains refer to"),
    kind: z.enum(["openai", "anthropic"]).describe("Wire protocol the provider speaks"),
    baseUrl: z
      .url({ message: 'must be a URL such as "https://api.openai.com/v1"' })
      .describe(
        "Base URL; OpenAI kinds end in /v1, Anthropic kinds are the host (the gateway adds /v1/messages)",
      ),
    keys: z
      .array(secretRef)
      .min(1, { message: "needs at least one key reference" })
      .describe("Real API keys, as references (with auth.kind oauth2: refresh tokens)"),
    auth: oauthSchema.optional(),
    limits: providerLimits.prefault({}),
    prices: z.record(z.string(), price).prefault({}).describe("Prices per upstream model name"),
    timeout: duration("120s").prefault("120s").describe("Upstream timeout for one attempt"),
    http2: z
      .boolean()
      .prefault(false)
      .describe("Offer HTTP/2 to this provider (ALPN; HTTP/1.1 stays the fallback); needs an https baseUrl"),
  })
  .describe("An upstream LLM provider");

export const chainEntry = z
  .strictObject({
    provider: z.string().describe("A provider id"),
    model: z.string().min(1).describe("The provider's model name"),
    tier: z
      .enum(["primary", "secondary", "fallback"])
      .optional()
      .describe("Default: primary for the first entry, else secondary"),
    contextWindow: count.optional().describe("Context window in tokens; else the built-in table"),
  })
  .describe("One step of a failover chain");

export const gatewaySchema = z
  .strictObject({
    listen: listenAddress("127.0.0.1:48300").describe("Gateway address agents reach; loopback by default"),
    maxBodySize: size("10M", "Largest request body accepted; a larger one is answered 413 as it passes this"),
    maxResponseSize: size(
      "32M",
      "Largest non-streamed provider answer, after decompression; a larger one is cut and becomes a 502",
    ),
    headersTimeout: duration("30s")
      .prefault("30s")
      .describe("An agent's request head must arrive whole within this long, or its connection is closed"),
    requestTimeout: duration("120s")
      .prefault("120s")
      .describe(
        "An agent's whole request (head and body) must arrive within this long (the answer may take longer)",
      ),
    keepAliveTimeout: duration("65s")
      .prefault("65s")
      .describe("An idle agent connection is closed after this long; answers announce it in Keep-Alive"),
    maxConnections: count
      .prefault(1024)
      .describe("Agent connections open at once; a connection past the cap is closed at once"),
    queueTimeout: duration("60s")
      .prefault("60s")
      .describe("How long a request may wait for its turn under the limits"),
    contextStrategy: z
      .enum(["reject", "middle-out", "upgrade"])
      .prefault("reject")
      .describe("What to do with a prompt larger than the model's context window"),
  })
  .refine((gateway) => gateway.headersTimeout <= gateway.requestTimeout, {
    message: "headersTimeout must not be longer than requestTimeout (the head is part of the request)",
    path: ["headersTimeout"],
  })
  .describe("The LLM gateway");

export const budgetSchema = z
  .strictObject({
    daily: z.number().positive().describe("USD per day; requests stop with a clear error past it"),
  })
  .describe("Spending limits for one agent");

export const simulatorSchema = simOptionsSchema
  .extend({
    listen: listenAddress("127.0.0.1:48301").describe(
      "Where the simulator listens; point providers' baseUrl here",
    ),
  })
  .describe(
    "A provider simulator the daemon runs and supervises (flotilla sim -c FILE), for the demo and drills",
  );
