/** Responses API request (as Codex sends it) → Chat Completions request. */
import type {
  ChatCompletionRequest,
  ChatFunctionTool,
  ChatMessage,
  ChatToolChoice,
  ChatUserContentPart,
} from "./openai-types.ts";
import type {
  ResponsesContentPart,
  ResponsesInputItem,
  ResponsesMessageItem,
  ResponsesRequest,
  ResponsesTool,
  ResponsesToolChoice,
} from "./responses-types.ts";

export type ResponsesToOpenaiOptions = {
  /** The upstream model name; the request's own model when omitted. */
  model?: string;
};

/**
 * Translates a Responses request for a chat upstream. `instructions` become the system message;
 * function calls join the assistant message before them, as chat `tool_calls`; their outputs become
 * tool messages. Reasoning items and built-in tools have no chat form and are dropped.
 */
export function responsesToOpenai(
  req: ResponsesRequest,
  options: ResponsesToOpenaiOptions = {},
): ChatCompletionRequest {
  const messages: ChatMessage[] = [];
  if (req.instructions) messages.push({ role: "system", content: req.instructions });
  if (typeof req.input === "string") messages.push({ role: "user", content: req.input });
  else for (const item of req.input) appendItem(messages, item);

  const out: ChatCompletionRequest = { model: options.model ?? req.model, messages };
  const tools = (req.tools ?? []).flatMap(toChatTool);
  if (tools.length > 0) {
    out.tools = tools;
    if (req.tool_choice) out.tool_choice = toolChoice(req.tool_choice);
    if (typeof req.parallel_tool_calls === "boolean") out.parallel_tool_calls = req.parallel_tool_calls;
  }
  if (typeof req.max_output_tokens === "number") out.max_completion_tokens = req.max_output_tokens;
  if (typeof req.temperature === "number") out.temperature = req.temperature;
  if (typeof req.top_p === "number") out.top_p = req.top_p;
  if (req.stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  if (req.user) out.user = req.user;
  return out;
}

function appendItem(messages: ChatMessage[], item: ResponsesInputItem): void {
  switch (item.type) {
    case undefined:
    case "message":
      if (typeof item.role === "string") messages.push(fromMessageItem(item));
      return;
    case "function_call": {
      const call = {
        id: item.call_id,
        type: "function" as const,
        function: { name: item.name, arguments: item.arguments },
      };
      const last = messages.at(-1);
      if (last?.role === "assistant") last.tool_calls = [...(last.tool_calls ?? []), call];
      else messages.push({ role: "assistant", content: null, tool_calls: [call] });
      return;
    }
    case "function_call_output":
      messages.push({ role: "tool", tool_call_id: item.call_id, content: partsText(item.output) });
      return;
    default:
      return;
  }
}

function fromMessageItem(item: ResponsesMessageItem): ChatMessage {
  switch (item.role) {
    case "user": {
      if (!Array.isArray(item.content)) return { role: "user", content: partsText(item.content) };
      const parts = item.content.flatMap(toUserPart);
      const [only] = parts;
      if (only?.type === "text" && parts.length === 1) return { role: "user", content: only.text };
      return { role: "user", content: parts };
    }
    case "assistant":
      return { role: "assistant", content: partsText(item.content) };
    // Compatible chat servers rarely know `developer`; `system` means the same to them.
    default:
      return { role: "system", content: partsText(item.content) };
  }
}

function toUserPart(part: ResponsesContentPart): ChatUserContentPart[] {
  if (part.type === "input_image") {
    return part.image_url
      ? [
          {
            type: "image_url",
            image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) },
          },
        ]
      : [];
  }
  return [{ type: "text", text: part.text ?? "" }];
}

/** Text of string or part content; items are only loosely validated, so anything else reads as "". */
function partsText(content: string | ResponsesContentPart[] | undefined): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (part.type === "input_image" ? "" : (part.text ?? ""))).join("");
}

function toChatTool(tool: ResponsesTool): ChatFunctionTool[] {
  if (tool.type !== "function" || !("name" in tool)) return [];
  const fn: ChatFunctionTool["function"] = { name: tool.name };
  if (tool.description) fn.description = tool.description;
  if (tool.parameters) fn.parameters = tool.parameters;
  if (typeof tool.strict === "boolean") fn.strict = tool.strict;
  return [{ type: "function", function: fn }];
}

function toolChoice(choice: ResponsesToolChoice): ChatToolChoice {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}
