/** The simulator's answers in each provider's real wire format: whole responses, stream frames, errors and rate-limit headers. */
import type { Answer } from "./answers.ts";

export type Format = "openai" | "anthropic";

/** Splits text into word-sized stream deltas. */
function pieces(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [text];
}

export function openaiResponse(id: string, model: string, a: Answer): unknown {
  const message = a.toolCall
    ? {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: a.toolCall.id,
            type: "function",
            function: { name: a.toolCall.name, arguments: JSON.stringify(a.toolCall.arguments) },
          },
        ],
      }
    : { role: "assistant", content: a.text };
  return {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: a.toolCall ? "tool_calls" : "stop" }],
    usage: {
      prompt_tokens: a.promptTokens,
      completion_tokens: a.completionTokens,
      total_tokens: a.promptTokens + a.completionTokens,
    },
  };
}

export function openaiFrames(id: string, model: string, a: Answer, includeUsage: boolean): string[] {
  const created = Math.floor(Date.now() / 1000);
  // Every chunk opens with the same four fields: serialised once; `choices` (and usage) close each chunk.
  const opening = `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model }).slice(0, -1)},"choices":`;
  const frame = (choices: unknown[], usage?: Record<string, number>) =>
    `${opening}${JSON.stringify(choices)}${usage ? `,"usage":${JSON.stringify(usage)}` : ""}}\n\n`;
  const frames = [frame([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }])];
  if (a.toolCall) {
    const call = a.toolCall;
    frames.push(
      frame([
        {
          index: 0,
          delta: {
            tool_calls: [
              { index: 0, id: call.id, type: "function", function: { name: call.name, arguments: "" } },
            ],
          },
          finish_reason: null,
        },
      ]),
    );
    const args = JSON.stringify(call.arguments);
    for (let i = 0; i < args.length; i += 8) {
      frames.push(
        frame([
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + 8) } }] },
            finish_reason: null,
          },
        ]),
      );
    }
  } else {
    // A chunk per word is most of a stream: its JSON is spelt out around the serialised word.
    for (const piece of pieces(a.text))
      frames.push(
        `${opening}[{"index":0,"delta":{"content":${JSON.stringify(piece)}},"finish_reason":null}]}\n\n`,
      );
  }
  frames.push(frame([{ index: 0, delta: {}, finish_reason: a.toolCall ? "tool_calls" : "stop" }]));
  if (includeUsage) {
    frames.push(
      frame([], {
        prompt_tokens: a.promptTokens,
        completion_tokens: a.completionTokens,
        total_tokens: a.promptTokens + a.completionTokens,
      }),
    );
  }
  frames.push("data: [DONE]\n\n");
  return frames;
}

export function anthropicResponse(id: string, model: string, a: Answer): unknown {
  const content = a.toolCall
    ? [{ type: "tool_use", id: a.toolCall.id, name: a.toolCall.name, input: a.toolCall.arguments }]
    : [{ type: "text", text: a.text }];
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: a.toolCall ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: { input_tokens: a.promptTokens, output_tokens: a.completionTokens },
  };
}

export function anthropicFrames(id: string, model: string, a: Answer): string[] {
  const event = (name: string, data: unknown) =>
    `event: ${name}\ndata: ${JSON.stringify({ type: name, ...(data as object) })}\n\n`;
  const frames = [
    event("message_start", {
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: a.promptTokens, output_tokens: 1 },
      },
    }),
  ];
  if (a.toolCall) {
    frames.push(
      event("content_block_start", {
        index: 0,
        content_block: { type: "tool_use", id: a.toolCall.id, name: a.toolCall.name, input: {} },
      }),
    );
    const args = JSON.stringify(a.toolCall.arguments);
    for (let i = 0; i < args.length; i += 8) {
      frames.push(
        event("content_block_delta", {
          index: 0,
          delta: { type: "input_json_delta", partial_json: args.slice(i, i + 8) },
        }),
      );
    }
  } else {
    frames.push(event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }));
    // An event per word is most of a stream: its JSON is spelt out around the serialised word.
    for (const piece of pieces(a.text))
      frames.push(
        `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(piece)}}}\n\n`,
      );
  }
  frames.push(event("content_block_stop", { index: 0 }));
  frames.push(
    event("message_delta", {
      delta: { stop_reason: a.toolCall ? "tool_use" : "end_turn", stop_sequence: null },
      usage: { output_tokens: a.completionTokens },
    }),
  );
  frames.push(event("message_stop", {}));
  return frames;
}

export function errorBody(format: Format, status: number, message: string, kind = ""): unknown {
  if (format === "anthropic") {
    const type =
      status === 429
        ? "rate_limit_error"
        : status === 401
          ? "authentication_error"
          : status === 400
            ? "invalid_request_error"
            : status === 529
              ? "overloaded_error"
              : "api_error";
    return { type: "error", error: { type, message } };
  }
  const type =
    status === 429
      ? kind === "tokens"
        ? "tokens"
        : "requests"
      : status === 401
        ? "invalid_request_error"
        : status === 400
          ? "invalid_request_error"
          : "server_error";
  return {
    error: {
      message,
      type,
      param: null,
      code: status === 429 ? "rate_limit_exceeded" : status === 401 ? "invalid_api_key" : null,
    },
  };
}

/** Rate-limit headers as each provider sends them, on every answer. */
export function rateHeaders(
  format: Format,
  s: { rpm?: number; tpm?: number; remainingRequests?: number; remainingTokens?: number; resetMs: number },
): Record<string, string> {
  const h: Record<string, string> = {};
  if (format === "openai") {
    if (s.rpm !== undefined) {
      h["x-ratelimit-limit-requests"] = String(s.rpm);
      h["x-ratelimit-remaining-requests"] = String(s.remainingRequests);
      h["x-ratelimit-reset-requests"] = `${(s.resetMs / 1000).toFixed(3)}s`;
    }
    if (s.tpm !== undefined) {
      h["x-ratelimit-limit-tokens"] = String(s.tpm);
      h["x-ratelimit-remaining-tokens"] = String(s.remainingTokens);
      h["x-ratelimit-reset-tokens"] = `${(s.resetMs / 1000).toFixed(3)}s`;
    }
    return h;
  }
  const reset = new Date(Date.now() + s.resetMs).toISOString();
  if (s.rpm !== undefined) {
    h["anthropic-ratelimit-requests-limit"] = String(s.rpm);
    h["anthropic-ratelimit-requests-remaining"] = String(s.remainingRequests);
    h["anthropic-ratelimit-requests-reset"] = reset;
  }
  if (s.tpm !== undefined) {
    h["anthropic-ratelimit-tokens-limit"] = String(s.tpm);
    h["anthropic-ratelimit-tokens-remaining"] = String(s.remainingTokens);
    h["anthropic-ratelimit-tokens-reset"] = reset;
  }
  return h;
}
