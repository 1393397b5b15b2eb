/** The gateway's one doorway to the protocol modules: which translation a client/provider pair needs, in each direction. */
import type { Usage } from "./accounting.ts";
import type { ClientFormat } from "./errors.ts";
import { type HeldRequest, passesAsIs } from "./held-request.ts";
import type { AnthropicRequest, AnthropicResponse } from "./protocols/anthropic-types.ts";
import type { ChatCompletion, ChatCompletionRequest } from "./protocols/openai-types.ts";
import { parseSse, encodeSse } from "./protocols/sse.ts";
import { anthropicToOpenai, openaiToAnthropic, responsesToOpenai } from "./protocols/translate-request.ts";
import {
  anthropicResponseToOpenai,
  openaiResponseToAnthropic,
  openaiResponseToResponses,
} from "./protocols/translate-response.ts";
import {
  anthropicStreamToOpenai,
  openaiStreamToAnthropic,
  openaiStreamToResponses,
} from "./protocols/translate-stream.ts";
import { normalizeUsage } from "./protocols/usage.ts";
import {
  validateAnthropicRequest,
  validateChatRequest,
  validateResponsesRequest,
} from "./protocols/validate.ts";

export type ProviderKind = "openai" | "anthropic";
type Body = Record<string, unknown>;

/** Validates the client's request; a Responses request becomes a chat request from here on. */
export function normalizeRequest(
  client: ClientFormat,
  parsed: unknown,
): { ok: true; body: Body } | { ok: false; message: string } {
  if (client === "openai") {
    const result = validateChatRequest(parsed);
    return result.ok ? { ok: true, body: result.value as Body } : result;
  }
  if (client === "anthropic") {
    const result = validateAnthropicRequest(parsed);
    return result.ok ? { ok: true, body: result.value as Body } : result;
  }
  const result = validateResponsesRequest(parsed);
  if (!result.ok) return result;
  return {
    ok: true,
    body: { ...(responsesToOpenai(result.value) as Body), stream: result.value.stream === true },
  };
}

/** The body to send a provider: the model swapped in, translated when the protocols differ. */
function requestFor(
  client: ClientFormat,
  provider: ProviderKind,
  body: Body,
  model: string,
  stream: boolean,
): Body {
  const usageOption = stream
    ? { stream_options: { ...(body.stream_options as Body | undefined), include_usage: true } }
    : {};
  if (client === "anthropic") {
    if (provider === "anthropic") return { ...body, model };
    return { ...(anthropicToOpenai(body as AnthropicRequest, { model }) as Body), ...usageOption };
  }
  if (provider === "openai") return { ...body, model, ...usageOption };
  return openaiToAnthropic(body as ChatCompletionRequest, { model }) as Body;
}

/**
 * The bytes to send a provider. When the provider speaks the client's protocol and the body needs no change
 * (same model name, not trimmed, usage already asked for on a stream) these are the client's own bytes: an
 * agent's 57 KB prompt is then not encoded again.
 */
export function payloadFor(
  client: ClientFormat,
  provider: ProviderKind,
  request: HeldRequest,
  trimmed: Body | undefined,
  model: string,
): Buffer {
  if (!trimmed && request.raw && passesAsIs(client, provider, request, model)) return request.raw;
  const body = requestFor(client, provider, trimmed ?? request.body(), model, request.stream);
  return Buffer.from(JSON.stringify(body));
}

/** A non-streamed answer in the client's protocol. */
export function responseFor(
  client: ClientFormat,
  provider: ProviderKind,
  json: Body,
  model: string,
): unknown {
  if (client === provider) return json;
  if (provider === "openai") {
    if (client === "anthropic") return openaiResponseToAnthropic(json as ChatCompletion, model);
    return openaiResponseToResponses(json as ChatCompletion, model);
  }
  const chat = anthropicResponseToOpenai(json as AnthropicResponse, model);
  return client === "openai" ? chat : openaiResponseToResponses(chat, model);
}

export function usageOf(provider: ProviderKind, json: Body): Usage | undefined {
  return normalizeUsage(provider, json.usage);
}

/** A streamed answer translated event by event into the client's protocol (never buffered). */
export function streamFor(
  client: ClientFormat,
  provider: ProviderKind,
  source: AsyncIterable<Uint8Array>,
  model: string,
  onUsage: (usage: Usage) => void,
): AsyncIterable<string> {
  const events = parseSse(source);
  if (provider === "anthropic") {
    if (client === "openai") return anthropicStreamToOpenai(events, { model, onUsage, includeUsage: true });
    if (client === "responses")
      return openaiStreamToResponses(
        parseSse(anthropicStreamToOpenai(events, { model, onUsage, includeUsage: true })),
        {
          model,
        },
      );
    return reencode(events);
  }
  if (client === "anthropic") return openaiStreamToAnthropic(events, { model, onUsage });
  if (client === "responses") return openaiStreamToResponses(events, { model, onUsage });
  return reencode(events);
}

async function* reencode(events: AsyncIterable<{ event?: string; data: string }>): AsyncGenerator<string> {
  for await (const e of events) yield encodeSse(e.data, e.event);
}
