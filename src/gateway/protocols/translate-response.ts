/** Non-streamed response translation: Anthropic ↔ chat completion, and chat completion → Responses. */
import type { AnthropicResponse, AnthropicResponseBlock } from "./anthropic-types.ts";
import { anthropicToolId, newId, unixSeconds } from "./ids.ts";
import type { ChatCompletion, ChatResponseMessage, ChatToolCall } from "./openai-types.ts";
import type { ResponsesOutputItem, ResponsesResponse } from "./responses-types.ts";
import { anthropicStopToOpenai, openaiFinishToAnthropic, openaiFinishToResponses } from "./stop-reasons.ts";
import { parseToolArguments, stringifyToolInput } from "./tool-arguments.ts";
import { anthropicUsageToChat, chatUsageToAnthropic, chatUsageToResponses } from "./usage-wire.ts";

/** An Anthropic message as a chat completion; `model` is the name the client asked for. */
export function anthropicResponseToOpenai(res: AnthropicResponse, model: string): ChatCompletion {
  let text = "";
  const calls: ChatToolCall[] = [];
  for (const block of res.content) {
    if (block.type === "text") text += block.text;
    else if (block.type === "tool_use") {
      calls.push({
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: stringifyToolInput(block.input) },
      });
    }
  }
  const message: ChatResponseMessage = {
    role: "assistant",
    content: text === "" && calls.length > 0 ? null : text,
  };
  if (calls.length > 0) message.tool_calls = calls;
  return {
    id: `chatcmpl-${res.id}`,
    object: "chat.completion",
    created: unixSeconds(),
    model,
    choices: [
      { index: 0, message, finish_reason: anthropicStopToOpenai(res.stop_reason) ?? "stop", logprobs: null },
    ],
    usage: anthropicUsageToChat(res.usage),
  };
}

/** A chat completion (its first choice) as an Anthropic message. */
export function openaiResponseToAnthropic(res: ChatCompletion, model: string): AnthropicResponse {
  const choice = res.choices[0];
  const content: AnthropicResponseBlock[] = [];
  const text = choice?.message.content ?? choice?.message.refusal ?? "";
  if (text !== "") content.push({ type: "text", text });
  for (const call of choice?.message.tool_calls ?? []) {
    content.push({
      type: "tool_use",
      id: anthropicToolId(call.id),
      name: call.function.name,
      input: parseToolArguments(call.function.arguments),
    });
  }
  return {
    id: newId("msg_"),
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: openaiFinishToAnthropic(choice?.finish_reason) ?? "end_turn",
    stop_sequence: null,
    usage: chatUsageToAnthropic(res.usage),
  };
}

/** A chat completion (its first choice) as a Responses object: a message item, then function calls. */
export function openaiResponseToResponses(res: ChatCompletion, model: string): ResponsesResponse {
  const choice = res.choices[0];
  const output: ResponsesOutputItem[] = [];
  const text = choice?.message.content ?? "";
  if (text !== "") {
    output.push({
      type: "message",
      id: newId("msg_"),
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text, annotations: [] }],
    });
  }
  for (const call of choice?.message.tool_calls ?? []) {
    output.push({
      type: "function_call",
      id: newId("fc_"),
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
      status: "completed",
    });
  }
  return {
    id: newId("resp_"),
    object: "response",
    created_at: unixSeconds(),
    model,
    ...openaiFinishToResponses(choice?.finish_reason),
    output,
    usage: chatUsageToResponses(res.usage),
    error: null,
  };
}
