/**
 * The failover loop for one request: for each chain entry, guard the context, wait for a key under the
 * limits, send, and on 429 / 5xx / timeout / refused connection cool that key or provider down and move on.
 * The first good answer is streamed back in the caller's protocol, marked with the provider and tier.
 */
import type { Accounting, Usage } from "./accounting.ts";
import { estimateTokens, middleOut } from "./context-guard.ts";
import { type ClientFormat, errorResponse, sendError } from "./errors.ts";
import { NoUsableKey, type ProviderRuntime, QueueTimeout } from "./provider-runtime.ts";
import type { ServerResponse } from "node:http";
import { relayResponse } from "./relay.ts";
import { ResponseTooLarge } from "./response-body.ts";
import { payloadFor } from "./translate.ts";
import { sendAttempt, type UpstreamResponse } from "./upstream.ts";
import { classifyFailure } from "./upstream-verdict.ts";
import type { CancelSignal } from "./cancel-signal.ts";
import type { HeldRequest } from "./held-request.ts";

export type Tier = "primary" | "secondary" | "fallback";

export interface Candidate {
  runtime: ProviderRuntime;
  model: string;
  tier: Tier;
  window: number;
}

export interface RouteContext {
  agent: string;
  priority: number;
  client: ClientFormat;
  /** The validated request (held-request.ts: the client's bytes, its tree parsed again where a path needs it). */
  request: HeldRequest;
  /** The prompt's estimated tokens, from the raw request's length (estimateTokens). */
  estTokens: number;
  stream: boolean;
  chain: Candidate[];
  strategy: "reject" | "middle-out" | "upgrade";
  passHeaders: Record<string, string>;
  queueTimeoutMs: number;
  /** Largest non-streamed answer (gateway.maxResponseSize). */
  maxResponseSize: number;
  signal: CancelSignal;
  res: ServerResponse;
  accounting: Accounting;
  event: (kind: string, data: Record<string, unknown>) => void;
  started: number;
  /** The last message's hash (request-fingerprint.ts), recorded for oversight's loop check. */
  fingerprint: string | null;
}

const OUTPUT_RESERVE = 1_024; // tokens kept free for the answer when trimming a prompt

/** Fits the prompt to the candidate's window (`trimmed` is the body when it had to change), or says why not. */
function fitContext(
  ctx: RouteContext,
  candidate: Candidate,
  estTokens: number,
): { trimmed: Record<string, unknown> | undefined; estTokens: number } | undefined {
  if (estTokens <= candidate.window) return { trimmed: undefined, estTokens };
  if (ctx.strategy !== "middle-out") return undefined;
  const whole = ctx.request.body();
  const messages = whole.messages;
  if (!Array.isArray(messages)) return undefined;
  const overhead = estimateTokens({ ...whole, messages: [] });
  const trimmed = middleOut(
    messages as Array<{ role?: unknown }>,
    candidate.window - OUTPUT_RESERVE,
    overhead,
  );
  if (!trimmed) return undefined;
  const body = { ...whole, messages: trimmed.messages };
  ctx.event("gateway.context_trimmed", {
    model: candidate.model,
    dropped: trimmed.dropped,
    window: candidate.window,
  });
  return { trimmed: body, estTokens: estimateTokens(body) };
}

/**
 * Waits until a good answer is sure to reach the agent: a whole answer read in full (under the size cap), a
 * stream's first bytes in. Until then a break is the provider's failure, and the next chain entry can
 * still answer; a message says what broke.
 */
async function received(
  response: UpstreamResponse,
  stream: boolean,
): Promise<{ ok: true; whole: Buffer | undefined } | { ok: false; message: string }> {
  try {
    if (!stream) return { ok: true, whole: await response.body.bytes() };
    await response.body.started();
    return { ok: true, whole: undefined };
  } catch (err) {
    const message = (err as Error).message;
    return {
      ok: false,
      message: err instanceof ResponseTooLarge ? message : `the answer broke off: ${message}`,
    };
  }
}

export async function route(ctx: RouteContext): Promise<void> {
  const estimate = ctx.estTokens;
  const failures: string[] = [];
  let attempts = 0;
  let soonestRetryMs: number | undefined;
  let contextRejected = 0;
  for (const [index, candidate] of ctx.chain.entries()) {
    const { runtime } = candidate;
    const fitted = fitContext(ctx, candidate, estimate);
    if (!fitted) {
      contextRejected++;
      failures.push(
        `${runtime.provider.id}/${candidate.model}: prompt of ~${estimate} tokens exceeds its ${candidate.window}-token window`,
      );
      if (ctx.strategy === "upgrade") continue;
      break;
    }
    // A few tries per provider: a 429 or a dead key moves on to the provider's next key.
    for (let tries = 0; tries < runtime.provider.keys.length + 1; tries++) {
      if (!runtime.breaker.allow()) {
        failures.push(`${runtime.provider.id}: circuit open`);
        break;
      }
      let admission;
      try {
        admission = await runtime.admit({
          agent: ctx.agent,
          priority: ctx.priority,
          estTokens: fitted.estTokens,
          deadlineMs: ctx.started + ctx.queueTimeoutMs,
          signal: ctx.signal,
        });
      } catch (err) {
        if (ctx.signal.aborted) return;
        if (err instanceof NoUsableKey) {
          failures.push(err.message);
          break;
        }
        if (!(err instanceof QueueTimeout)) throw err;
        soonestRetryMs = Math.min(soonestRetryMs ?? Infinity, err.retryAfterMs);
        failures.push(`${runtime.provider.id}: limits leave no room within the wait budget`);
        break;
      }
      attempts++;
      const payload = payloadFor(
        ctx.client,
        runtime.provider.kind,
        ctx.request,
        fitted.trimmed,
        candidate.model,
      );
      const result = await sendAttempt({
        provider: runtime.provider,
        dispatcher: runtime.dispatcher,
        apiKey: admission.apiKey,
        payload,
        passHeaders: ctx.passHeaders,
        maxResponseSize: ctx.maxResponseSize,
        signal: ctx.signal,
      });
      const answer =
        result.ok && result.response.ok ? await received(result.response, ctx.stream) : undefined;
      if (!result.ok || answer?.ok === false) {
        admission.lease.release();
        if (ctx.signal.aborted) return;
        runtime.breaker.failure();
        const reason = result.ok ? "network" : result.kind;
        const message = result.ok ? (answer as { message: string }).message : result.message;
        failures.push(`${runtime.provider.id}: ${reason} (${message})`);
        ctx.event("gateway.attempt_failed", {
          provider: runtime.provider.id,
          model: candidate.model,
          reason,
        });
        break;
      }
      const { response } = result;
      runtime.learn(admission.keyIndex, response.headers);
      if (answer?.ok) {
        runtime.breaker.success();
        const settle = (usage: Usage | undefined) => {
          if (usage) admission.lease.settle(usage.inputTokens + usage.outputTokens);
          admission.lease.release();
        };
        if (index > 0)
          ctx.event("gateway.failover", {
            to: runtime.provider.id,
            model: candidate.model,
            tier: candidate.tier,
            after: failures,
          });
        await relayResponse({
          ...ctx,
          response,
          whole: answer.whole,
          providerKind: runtime.provider.kind,
          providerId: runtime.provider.id,
          model: candidate.model,
          tier: candidate.tier,
          attempts,
          contextPressure: fitted.estTokens / candidate.window,
          waitedMs: admission.waitedMs,
          onDone: settle,
        });
        return;
      }
      admission.lease.release();
      const text = await response.body.text().catch(() => "");
      const { status } = response;
      const verdict = classifyFailure(status, response.headers, text);
      const key = { provider: runtime.provider.id, key: admission.keyIndex, status };
      if (verdict.kind === "rate_limited" || verdict.kind === "quota") {
        const quota = verdict.kind === "quota";
        runtime.cooldown(admission.keyIndex, Date.now() + verdict.waitMs, verdict.kind);
        ctx.event(quota ? "gateway.key_disabled" : "gateway.key_cooldown", { ...key, forMs: verdict.waitMs });
        soonestRetryMs = Math.min(soonestRetryMs ?? Infinity, verdict.waitMs);
        failures.push(`${runtime.provider.id}: ${quota ? "quota or billing exhausted" : "429"}`);
        // Another key of this provider only if one is free now; else the next chain entry beats waiting.
        if (runtime.hasRoom(fitted.estTokens)) continue;
        break;
      }
      if (verdict.kind === "rejected") {
        const outcome = runtime.rejected(admission.keyIndex, admission.apiKey);
        failures.push(`${runtime.provider.id}: key rejected (${status})`);
        if (outcome === "renewed" || runtime.hasRoom(fitted.estTokens)) continue;
        break;
      }
      if (verdict.kind === "server") {
        runtime.breaker.failure();
        failures.push(`${runtime.provider.id}: ${status}`);
        ctx.event("gateway.attempt_failed", {
          provider: runtime.provider.id,
          model: candidate.model,
          reason: status,
        });
        break;
      }
      // The request itself is wrong (400, 404, 413, 422): the caller hears the provider's reason.
      return sendError(
        ctx.res,
        errorResponse(ctx.client, status, `${runtime.provider.id}: ${text.slice(0, 500)}`),
      );
    }
  }
  if (
    contextRejected === ctx.chain.length ||
    (ctx.strategy !== "upgrade" && contextRejected > 0 && attempts === 0)
  ) {
    return sendError(
      ctx.res,
      errorResponse(ctx.client, 400, `context_length_exceeded: ${failures.join("; ")}`, {
        code: "context_length_exceeded",
      }),
    );
  }
  ctx.event("gateway.exhausted", { failures });
  if (soonestRetryMs !== undefined && attempts === 0) {
    return sendError(
      ctx.res,
      errorResponse(ctx.client, 429, `rate limited on every provider: ${failures.join("; ")}`, {
        retryAfterMs: soonestRetryMs,
      }),
    );
  }
  sendError(
    ctx.res,
    errorResponse(ctx.client, 502, `every provider in the chain failed: ${failures.join("; ")}`, {
      ...(soonestRetryMs === undefined ? {} : { retryAfterMs: soonestRetryMs }),
    }),
  );
}
