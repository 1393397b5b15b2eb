/** OpenAI Chat Completions wire types: the subset the gateway reads, writes and translates. */

/** A plain text part of a multi-part message. */
export type ChatTextPart = { type: "text"; text: string };

/** An image by URL; `url` may be a `data:<mime>;base64,<data>` URL. */
export type ChatImagePart = {
  type: "image_url";
  image_url: { url: string; detail?: "auto" | "low" | "high" };
};

export type ChatAudioPart = { type: "input_audio"; input_audio: { data: string; format: string } };

/** A file inline (`file_data` is a data URL) or by id. */
export type ChatFilePart = {
  type: "file";
  file: { file_data?: string; file_id?: string; filename?: string };
};

export type ChatRefusalPart = { type: "refusal"; refusal: string };

export type ChatUserContentPart = ChatTextPart | ChatImagePart | ChatAudioPart | ChatFilePart;

export type ChatToolCall = {
  id: string;
  type: "function";
  /** `arguments` is a JSON text, as the model wrote it; it may not parse. */
  function: { name: string; arguments: string };
};

/** `developer` is the newer name for `system`; both become the Anthropic `system`. */
export type ChatSystemMessage = {
  role: "system" | "developer";
  content: string | ChatTextPart[];
  name?: string;
};

export type ChatUserMessage = { role: "user"; content: string | ChatUserContentPart[]; name?: string };

export type ChatAssistantMessage = {
  role: "assistant";
  content?: string | (ChatTextPart | ChatRefusalPart)[] | null;
  tool_calls?: ChatToolCall[];
  refusal?: string | null;
  name?: string;
};

export type ChatToolMessage = { role: "tool"; content: string | ChatTextPart[]; tool_call_id: string };

export type ChatMessage = ChatSystemMessage | ChatUserMessage | ChatAssistantMessage | ChatToolMessage;

export type ChatFunctionTool = {
  type: "function";
  function: {
    name: string;
    description?: string;
    /** A JSON Schema for the arguments object. */
    parameters?: Record<string, unknown>;
    strict?: boolean;
  };
};

export type ChatToolChoice = "auto" | "none" | "required" | { type: "function"; function: { name: string } };

export type ChatCompletionRequest = {
  model: string;
  messages: ChatMessage[];
  tools?: ChatFunctionTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  /** Deprecated by OpenAI in favour of `max_completion_tokens`; many compatible servers still read it. */
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  user?: string;
  n?: number | null;
};

export type ChatUsage = {
  /** Includes cached prompt tokens (see `prompt_tokens_details.cached_tokens`). */
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
};

export type ChatFinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

export type ChatResponseMessage = {
  role: "assistant";
  content: string | null;
  tool_calls?: ChatToolCall[];
  refusal?: string | null;
};

export type ChatCompletion = {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: number;
    message: ChatResponseMessage;
    finish_reason: ChatFinishReason | null;
    logprobs?: unknown;
  }[];
  usage?: ChatUsage;
  system_fingerprint?: string | null;
};

/** One streamed tool-call fragment: the first for an `index` carries id and name, later ones argument text. */
export type ChatToolCallDelta = {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
};

export type ChatChunkDelta = {
  role?: "assistant";
  content?: string | null;
  tool_calls?: ChatToolCallDelta[];
  refusal?: string | null;
};

/** A streamed chunk. With `stream_options.include_usage`, the last chunk has `choices: []` and `usage`. */
export type ChatCompletionChunk = {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: {
    index: number;
    delta: ChatChunkDelta;
    finish_reason: ChatFinishReason | null;
    logprobs?: unknown;
  }[];
  usage?: ChatUsage | null;
};

/** The error body OpenAI sends, also inside a stream as `data: {"error": …}`. */
export type ChatErrorBody = {
  error: { message: string; type: string; param: string | null; code: string | null };
};
