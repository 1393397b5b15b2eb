/** Chat Completions chunk stream → Responses API event stream (the events Codex reads). */
import { newId, unixSeconds } from "./ids.ts";
import type { ChatCompletionChunk, ChatFinishReason, ChatUsage } from "./openai-types.ts";
import type {
  ResponsesOutputFunctionCall,
  ResponsesOutputItem,
  ResponsesOutputMessage,
  ResponsesResponse,
  ResponsesStreamEvent,
} from "./responses-types.ts";
import { encodeSse, type SseEvent } from "./sse.ts";
import { openaiFinishToResponses } from "./stop-reasons.ts";
import { readChatFrame, type StreamTransformOptions } from "./stream-input.ts";
import { normalizeUsage } from "./usage.ts";
import { chatUsageToResponses } from "./usage-wire.ts";

export type OpenaiStreamToResponsesOptions = StreamTransformOptions;

/** An event without its sequence number, which the transform assigns. */
type Unnumbered = ResponsesStreamEvent extends infer E
  ? E extends unknown
    ? Omit<E, "sequence_number">
    : never
  : never;

/**
 * Yields Responses events as chunks arrive: response.created and response.in_progress on the first
 * chunk; a message item (output_item.added, content_part.added, output_text.delta…, then the done
 * events) per run of text; a function_call item (added, arguments deltas, done) per tool call; and
 * response.completed, or response.incomplete when the output limit cut the answer, with usage.
 */
export async function* openaiStreamToResponses(
  events: AsyncIterable<SseEvent>,
  options: OpenaiStreamToResponsesOptions,
): AsyncGenerator<string> {
  let sequence = 0;
  const send = (event: Unnumbered): string =>
    encodeSse(JSON.stringify({ ...event, sequence_number: sequence++ }), event.type);
  const response: ResponsesResponse = {
    id: newId("resp_"),
    object: "response",
    created_at: unixSeconds(),
    model: options.model,
    status: "in_progress",
    output: [],
    usage: null,
    incomplete_details: null,
    error: null,
  };
  /** Items are kept as they grow; `response.output` receives each one when it is done. */
  const items: ResponsesOutputItem[] = [];
  let open: ResponsesOutputItem | undefined;
  const calls = new Map<number, ResponsesOutputFunctionCall>();
  let started = false;
  let ended = false;
  let finish: ChatFinishReason | undefined;
  let usage: ChatUsage | undefined;

  function* openItem(item: ResponsesOutputItem): Generator<string> {
    yield* closeItem();
    open = item;
    items.push(item);
    yield send({ type: "response.output_item.added", output_index: items.length - 1, item });
  }
  function* closeItem(status: "completed" | "incomplete" = "completed"): Generator<string> {
    const item = open;
    if (!item) return;
    open = undefined;
    const output_index = items.indexOf(item);
    item.status = finish === "length" ? "incomplete" : status;
    if (item.type === "message") {
      const part = item.content[0] ?? { type: "output_text", text: "", annotations: [] };
      const ref = { item_id: item.id, output_index, content_index: 0 };
      yield send({ type: "response.output_text.done", ...ref, text: part.text });
      yield send({ type: "response.content_part.done", ...ref, part });
    } else {
      yield send({
        type: "response.function_call_arguments.done",
        item_id: item.id,
        output_index,
        arguments: item.arguments,
      });
    }
    yield send({ type: "response.output_item.done", output_index, item });
  }
  function* finishResponse(): Generator<string> {
    yield* closeItem();
    Object.assign(response, openaiFinishToResponses(finish));
    response.output = items;
    response.usage = chatUsageToResponses(usage);
    yield send({
      type: response.status === "incomplete" ? "response.incomplete" : "response.completed",
      response,
    });
    const final = normalizeUsage("openai", usage);
    if (final) options.onUsage?.(final);
    ended = true;
  }
  function* fail(message: string): Generator<string> {
    yield* closeItem("incomplete");
    response.status = "failed";
    response.output = items;
    response.error = { code: "server_error", message };
    yield send({ type: "response.failed", response });
    ended = true;
  }
  function* chunkEvents(chunk: ChatCompletionChunk): Generator<string> {
    const choice = chunk.choices.find((candidate) => candidate.index === 0) ?? chunk.choices[0];
    const delta = choice?.delta;
    if (delta?.content) {
      if (open?.type !== "message") yield* openItem(newMessage());
      const message = open as ResponsesOutputMessage;
      const part = message.content[0] ?? { type: "output_text", text: "", annotations: [] };
      if (message.content.length === 0) {
        message.content.push(part);
        const ref = { item_id: message.id, output_index: items.length - 1, content_index: 0 };
        yield send({ type: "response.content_part.added", ...ref, part });
      }
      part.text += delta.content;
      const ref = { item_id: message.id, output_index: items.indexOf(message), content_index: 0 };
      yield send({ type: "response.output_text.delta", ...ref, delta: delta.content });
    }
    for (const fragment of delta?.tool_calls ?? []) {
      let call = calls.get(fragment.index);
      if (!call) {
        call = {
          type: "function_call",
          id: newId("fc_"),
          call_id: fragment.id ?? newId("call_"),
          name: fragment.function?.name ?? "",
          arguments: "",
          status: "in_progress",
        };
        calls.set(fragment.index, call);
        yield* openItem(call);
      }
      const partial = fragment.function?.arguments;
      if (partial) {
        call.arguments += partial;
        const output_index = items.indexOf(call);
        yield send({
          type: "response.function_call_arguments.delta",
          item_id: call.id,
          output_index,
          delta: partial,
        });
      }
    }
    if (choice?.finish_reason) {
      finish = choice.finish_reason;
      yield* closeItem();
    }
    if (chunk.usage) usage = chunk.usage;
    if (finish && usage) yield* finishResponse();
  }

  for await (const sse of events) {
    if (ended) continue; // drain, so the upstream connection ends cleanly
    const frame = readChatFrame(sse);
    if (!frame) continue;
    if (!started) {
      started = true;
      yield send({ type: "response.created", response });
      yield send({ type: "response.in_progress", response });
    }
    if (frame.kind === "error") yield* fail(frame.message);
    else if (frame.kind === "done") yield* finishResponse();
    else yield* chunkEvents(frame.chunk);
  }
  if (ended) return;
  if (!started) yield send({ type: "response.created", response });
  if (finish) yield* finishResponse();
  else yield* fail("the upstream stream ended before the response was complete");
}

function newMessage(): ResponsesOutputMessage {
  return { type: "message", id: newId("msg_"), status: "in_progress", role: "assistant", content: [] };
}
