/** Anthropic Messages request → Chat Completions request. */
import type {
  AnthropicContentBlock,
  AnthropicImageBlock,
  AnthropicRequest,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
} from "./anthropic-types.ts";
import { toDataUrl } from "./data-url.ts";
import type {
  ChatAssistantMessage,
  ChatCompletionRequest,
  ChatFunctionTool,
  ChatMessage,
  ChatToolCall,
  ChatToolChoice,
  ChatUserContentPart,
} from "./openai-types.ts";
import { stringifyToolInput } from "./tool-arguments.ts";

export type AnthropicToOpenaiOptions = {
  /** The upstream model name, which replaces the client's logical one. */
  model: string;
};

/**
 * Translates an Anthropic request for a chat upstream. `tool_result` blocks become tool messages
 * placed before the rest of their user turn (OpenAI wants them right after the tool calls); images
 * become data URLs; thinking blocks and server tools, which chat has no form for, are dropped. A
 * streamed request asks for the usage chunk, which the gateway needs for cost.
 */
export function anthropicToOpenai(
  req: AnthropicRequest,
  options: AnthropicToOpenaiOptions,
): ChatCompletionRequest {
  const messages: ChatMessage[] = [];
  const system = systemText(req.system);
  if (system) messages.push({ role: "system", content: system });
  for (const message of req.messages) {
    if (typeof message.content === "string") {
      messages.push({ role: message.role, content: message.content });
    } else if (message.role === "user") {
      messages.push(...userMessages(message.content));
    } else {
      messages.push(assistantMessage(message.content));
    }
  }

  const out: ChatCompletionRequest = {
    model: options.model,
    messages,
    max_completion_tokens: req.max_tokens,
  };
  const tools = (req.tools ?? []).flatMap(toChatTool);
  if (tools.length > 0) {
    out.tools = tools;
    if (req.tool_choice) {
      out.tool_choice = toolChoice(req.tool_choice);
      if ("disable_parallel_tool_use" in req.tool_choice && req.tool_choice.disable_parallel_tool_use) {
        out.parallel_tool_calls = false;
      }
    }
  }
  if (req.stop_sequences && req.stop_sequences.length > 0) out.stop = req.stop_sequences;
  if (typeof req.temperature === "number") out.temperature = req.temperature;
  if (typeof req.top_p === "number") out.top_p = req.top_p;
  if (req.stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  return out;
}

function systemText(system: AnthropicRequest["system"]): string {
  if (system === undefined) return "";
  if (typeof system === "string") return system;
  return system.map((block) => block.text).join("\n\n");
}

/** Tool results first, as tool messages; then whatever else the turn said, as one user message. */
function userMessages(blocks: AnthropicContentBlock[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  const parts: ChatUserContentPart[] = [];
  for (const block of blocks) {
    if (block.type === "tool_result") {
      const result = toolResultText(block);
      out.push({ role: "tool", tool_call_id: block.tool_use_id, content: result.text });
      // Tool messages carry text only; their images follow in the user message.
      parts.push(...result.images.map(imagePart));
      continue;
    }
    const part = userPart(block);
    if (part) parts.push(part);
  }
  const [only] = parts;
  if (only?.type === "text" && parts.length === 1) out.push({ role: "user", content: only.text });
  else if (parts.length > 0) out.push({ role: "user", content: parts });
  return out;
}

function userPart(block: AnthropicContentBlock): ChatUserContentPart | undefined {
  switch (block.type) {
    case "text":
      return { type: "text", text: block.text };
    case "image":
      return imagePart(block);
    case "document": {
      const source = block.source;
      if (source.type === "text") return { type: "text", text: source.data };
      if (source.type === "url") return { type: "text", text: source.url };
      const filename = block.title ?? "document.pdf";
      return { type: "file", file: { filename, file_data: toDataUrl(source.media_type, source.data) } };
    }
    default:
      return undefined;
  }
}

function imagePart(block: AnthropicImageBlock): ChatUserContentPart {
  const source = block.source;
  const url = source.type === "base64" ? toDataUrl(source.media_type, source.data) : source.url;
  return { type: "image_url", image_url: { url } };
}

function toolResultText(block: AnthropicToolResultBlock): { text: string; images: AnthropicImageBlock[] } {
  const content = block.content;
  if (content === undefined) return { text: "", images: [] };
  if (typeof content === "string") return { text: content, images: [] };
  const texts = content.filter((part): part is AnthropicTextBlock => part.type === "text");
  const images = content.filter((part): part is AnthropicImageBlock => part.type === "image");
  return { text: texts.map((part) => part.text).join("\n"), images };
}

function assistantMessage(blocks: AnthropicContentBlock[]): ChatAssistantMessage {
  let text = "";
  const calls: ChatToolCall[] = [];
  for (const block of blocks) {
    if (block.type === "text") text += block.text;
    else if (block.type === "tool_use") {
      calls.push({
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: stringifyToolInput(block.input) },
      });
    }
  }
  if (calls.length === 0) return { role: "assistant", content: text };
  return { role: "assistant", content: text === "" ? null : text, tool_calls: calls };
}

function toChatTool(tool: AnthropicTool): ChatFunctionTool[] {
  if (!("input_schema" in tool)) return [];
  const fn: ChatFunctionTool["function"] = { name: tool.name, parameters: tool.input_schema };
  if (tool.description) fn.description = tool.description;
  return [{ type: "function", function: fn }];
}

function toolChoice(choice: AnthropicToolChoice): ChatToolChoice {
  switch (choice.type) {
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      return { type: "function", function: { name: choice.name } };
    default:
      return "auto";
  }
}
