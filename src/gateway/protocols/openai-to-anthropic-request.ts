/** Chat Completions request → Anthropic Messages request. */
import type {
  AnthropicContentBlock,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
} from "./anthropic-types.ts";
import { isHttpUrl, parseDataUrl } from "./data-url.ts";
import { anthropicToolId } from "./ids.ts";
import type {
  ChatAssistantMessage,
  ChatCompletionRequest,
  ChatFunctionTool,
  ChatTextPart,
  ChatToolChoice,
  ChatToolMessage,
  ChatUserContentPart,
} from "./openai-types.ts";
import { parseToolArguments } from "./tool-arguments.ts";

export type OpenaiToAnthropicOptions = {
  /** The upstream model name, which replaces the client's logical one. */
  model: string;
  /** Anthropic requires `max_tokens`; used when the client set neither token limit. */
  defaultMaxTokens?: number;
};

type Content = string | AnthropicContentBlock[];

/**
 * Translates a chat request for an Anthropic upstream. System and developer messages, wherever they
 * sit, become `system` (Anthropic has no other place for them); tool messages become `tool_result`
 * blocks; consecutive messages of one role merge into one turn with tool results first.
 */
export function openaiToAnthropic(
  req: ChatCompletionRequest,
  options: OpenaiToAnthropicOptions,
): AnthropicRequest {
  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicMessage[] = [];
  for (const message of req.messages) {
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...textBlocks(message.content));
        break;
      case "user":
        appendTurn(messages, "user", userContent(message.content));
        break;
      case "assistant":
        appendTurn(messages, "assistant", assistantContent(message));
        break;
      case "tool":
        appendTurn(messages, "user", [toolResult(message)]);
        break;
    }
  }

  const out: AnthropicRequest = {
    model: options.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? options.defaultMaxTokens ?? 4096,
    messages,
  };
  const [onlySystem] = system;
  if (onlySystem && system.length === 1) out.system = onlySystem.text;
  else if (system.length > 1) out.system = system;

  const tools = (req.tools ?? []).filter((tool) => tool.type === "function").map(toAnthropicTool);
  if (tools.length > 0) {
    out.tools = tools;
    const choice = toolChoice(req.tool_choice, req.parallel_tool_calls);
    if (choice) out.tool_choice = choice;
  }
  if (typeof req.stop === "string") out.stop_sequences = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length > 0) out.stop_sequences = req.stop;
  // OpenAI allows temperature up to 2, Anthropic up to 1; newer Claude models refuse temperature and
  // top_p together, so temperature wins.
  if (typeof req.temperature === "number") out.temperature = Math.min(Math.max(req.temperature, 0), 1);
  else if (typeof req.top_p === "number") out.top_p = req.top_p;
  if (req.stream) out.stream = true;
  if (req.user) out.metadata = { user_id: req.user };
  return out;
}

/** Adds a turn, merging it into the previous one when the role repeats. Empty turns are skipped. */
function appendTurn(messages: AnthropicMessage[], role: "user" | "assistant", content: Content): void {
  if (content.length === 0) return;
  const last = messages.at(-1);
  if (last?.role !== role) {
    messages.push({ role, content });
    return;
  }
  const blocks = [...asBlocks(last.content), ...asBlocks(content)];
  // Anthropic wants the tool results that answer the previous turn at the start of the user turn.
  last.content = [
    ...blocks.filter((block) => block.type === "tool_result"),
    ...blocks.filter((block) => block.type !== "tool_result"),
  ];
}

function asBlocks(content: Content): AnthropicContentBlock[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

/** Content may be missing or null even where the wire type wants it: validation lets that through. */
type Loose<T> = T | null | undefined;

function textBlocks(content: Loose<string | ChatTextPart[]>): AnthropicTextBlock[] {
  if (!content) return [];
  const texts = typeof content === "string" ? [content] : content.map((part) => part.text ?? "");
  return texts.filter((text) => text !== "").map((text) => ({ type: "text", text }));
}

function userContent(content: Loose<string | ChatUserContentPart[]>): Content {
  if (!content) return [];
  if (typeof content === "string") return content;
  const blocks: AnthropicContentBlock[] = [];
  for (const part of content) {
    const block = userBlock(part);
    if (block) blocks.push(block);
  }
  return blocks;
}

/** One user part as a block; audio and files by id have no Anthropic form and are dropped. */
function userBlock(part: ChatUserContentPart): AnthropicContentBlock | undefined {
  if (part.type === "text") return part.text === "" ? undefined : { type: "text", text: part.text };
  if (part.type === "image_url") {
    const url = part.image_url.url;
    const inline = parseDataUrl(url);
    if (inline) {
      return { type: "image", source: { type: "base64", media_type: inline.mediaType, data: inline.data } };
    }
    return isHttpUrl(url) ? { type: "image", source: { type: "url", url } } : undefined;
  }
  if (part.type === "file" && part.file.file_data) {
    const inline = parseDataUrl(part.file.file_data);
    if (!inline) return undefined;
    return {
      type: "document",
      source: { type: "base64", media_type: inline.mediaType, data: inline.data },
      ...(part.file.filename ? { title: part.file.filename } : {}),
    };
  }
  return undefined;
}

function assistantContent(message: ChatAssistantMessage): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  const content = message.content;
  if (typeof content === "string") {
    if (content !== "") blocks.push({ type: "text", text: content });
  } else if (Array.isArray(content)) {
    for (const part of content) {
      const text = part.type === "text" ? part.text : part.refusal;
      if (text) blocks.push({ type: "text", text });
    }
  }
  for (const call of message.tool_calls ?? []) {
    blocks.push({
      type: "tool_use",
      id: anthropicToolId(call.id),
      name: call.function.name,
      input: parseToolArguments(call.function.arguments),
    });
  }
  return blocks;
}

function toolResult(message: ChatToolMessage): AnthropicContentBlock {
  const content: Loose<string | ChatTextPart[]> = message.content;
  const result = typeof content === "string" ? content : textBlocks(content);
  return {
    type: "tool_result",
    tool_use_id: anthropicToolId(message.tool_call_id),
    ...(result.length > 0 ? { content: result } : {}),
  };
}

function toAnthropicTool(tool: ChatFunctionTool): AnthropicTool {
  const { name, description, parameters } = tool.function;
  return {
    name,
    ...(description ? { description } : {}),
    input_schema: parameters ?? { type: "object", properties: {} },
  };
}

function toolChoice(
  choice: ChatToolChoice | undefined,
  parallel: boolean | undefined,
): AnthropicToolChoice | undefined {
  const serial = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === "none") return { type: "none" };
  if (choice === "required") return { type: "any", ...serial };
  if (typeof choice === "object" && choice.function?.name) {
    return { type: "tool", name: choice.function.name, ...serial };
  }
  if (choice === "auto" || parallel === false) return { type: "auto", ...serial };
  return undefined;
}
