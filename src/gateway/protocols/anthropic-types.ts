/** Anthropic Messages API wire types: request, response, content blocks and the streaming event union. */

export type AnthropicCacheControl = { type: "ephemeral"; ttl?: string };

export type AnthropicTextBlock = {
  type: "text";
  text: string;
  cache_control?: AnthropicCacheControl;
  citations?: unknown[] | null;
};

export type AnthropicImageSource =
  { type: "base64"; media_type: string; data: string } | { type: "url"; url: string };

export type AnthropicImageBlock = {
  type: "image";
  source: AnthropicImageSource;
  cache_control?: AnthropicCacheControl;
};

export type AnthropicDocumentBlock = {
  type: "document";
  source:
    | { type: "base64"; media_type: string; data: string }
    | { type: "url"; url: string }
    | { type: "text"; media_type: string; data: string };
  title?: string;
  cache_control?: AnthropicCacheControl;
};

export type AnthropicToolUseBlock = {
  type: "tool_use";
  /** Must match `^[a-zA-Z0-9_-]+$`. */
  id: string;
  name: string;
  input: Record<string, unknown>;
  cache_control?: AnthropicCacheControl;
};

export type AnthropicToolResultBlock = {
  type: "tool_result";
  tool_use_id: string;
  content?: string | (AnthropicTextBlock | AnthropicImageBlock)[];
  is_error?: boolean;
  cache_control?: AnthropicCacheControl;
};

export type AnthropicThinkingBlock = { type: "thinking"; thinking: string; signature: string };
export type AnthropicRedactedThinkingBlock = { type: "redacted_thinking"; data: string };

export type AnthropicContentBlock =
  | AnthropicTextBlock
  | AnthropicImageBlock
  | AnthropicDocumentBlock
  | AnthropicToolUseBlock
  | AnthropicToolResultBlock
  | AnthropicThinkingBlock
  | AnthropicRedactedThinkingBlock;

export type AnthropicMessage = { role: "user" | "assistant"; content: string | AnthropicContentBlock[] };

/** A client tool: the model calls it with arguments matching `input_schema`. */
export type AnthropicCustomTool = {
  type?: "custom";
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  cache_control?: AnthropicCacheControl;
};

/** A server or versioned tool (`web_search_20250305`, `bash_20250124`, …): no schema, no OpenAI equivalent. */
export type AnthropicServerTool = { type: string; name: string };

export type AnthropicTool = AnthropicCustomTool | AnthropicServerTool;

export type AnthropicToolChoice =
  | { type: "auto"; disable_parallel_tool_use?: boolean }
  | { type: "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
  | { type: "none" };

export type AnthropicRequest = {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string | AnthropicTextBlock[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stream?: boolean;
  metadata?: { user_id?: string };
  thinking?: { type: "enabled"; budget_tokens: number } | { type: "disabled" };
};

export type AnthropicStopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal"
  | "model_context_window_exceeded";

/** `input_tokens` excludes cache reads and writes, which are counted apart. */
export type AnthropicUsage = {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
};

export type AnthropicResponseBlock =
  AnthropicTextBlock | AnthropicToolUseBlock | AnthropicThinkingBlock | AnthropicRedactedThinkingBlock;

export type AnthropicResponse = {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
};

export type AnthropicContentDelta =
  | { type: "text_delta"; text: string }
  | { type: "input_json_delta"; partial_json: string }
  | { type: "thinking_delta"; thinking: string }
  | { type: "signature_delta"; signature: string }
  | { type: "citations_delta"; citation: unknown };

export type AnthropicErrorBody = { type: "error"; error: { type: string; message: string } };

/** The streaming events; each arrives as an SSE frame whose `event:` equals its `type`. */
export type AnthropicStreamEvent =
  | { type: "message_start"; message: AnthropicResponse }
  | { type: "content_block_start"; index: number; content_block: AnthropicResponseBlock }
  | { type: "content_block_delta"; index: number; delta: AnthropicContentDelta }
  | { type: "content_block_stop"; index: number }
  | {
      type: "message_delta";
      delta: { stop_reason: AnthropicStopReason | null; stop_sequence: string | null };
      /** Cumulative; `output_tokens` is final here. Newer API versions repeat the input counts too. */
      usage: Partial<AnthropicUsage> & { output_tokens: number };
    }
  | { type: "message_stop" }
  | { type: "ping" }
  | AnthropicErrorBody;
