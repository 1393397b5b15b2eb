/** OpenAI Responses API wire types: the subset Codex uses (function tools, messages, function calls). */

export type ResponsesInputText = { type: "input_text"; text: string };
export type ResponsesOutputText = { type: "output_text"; text: string; annotations?: unknown[] };
export type ResponsesInputImage = {
  type: "input_image";
  image_url?: string;
  file_id?: string;
  detail?: "auto" | "low" | "high";
};

export type ResponsesContentPart = ResponsesInputText | ResponsesOutputText | ResponsesInputImage;

/** `type` may be omitted on input messages (`{ role, content }` is accepted as a message). */
export type ResponsesMessageItem = {
  type?: "message";
  id?: string;
  role: "user" | "assistant" | "system" | "developer";
  content: string | ResponsesContentPart[];
  status?: string;
};

export type ResponsesFunctionCallItem = {
  type: "function_call";
  id?: string;
  /** Links the call to its `function_call_output`. */
  call_id: string;
  name: string;
  arguments: string;
  status?: "in_progress" | "completed" | "incomplete";
};

export type ResponsesFunctionCallOutputItem = {
  type: "function_call_output";
  call_id: string;
  output: string | ResponsesContentPart[];
};

/** Reasoning items are replayed by Codex; a chat upstream has no place for them. */
export type ResponsesReasoningItem = { type: "reasoning"; id?: string; summary?: unknown[] };

export type ResponsesInputItem =
  ResponsesMessageItem | ResponsesFunctionCallItem | ResponsesFunctionCallOutputItem | ResponsesReasoningItem;

export type ResponsesFunctionTool = {
  type: "function";
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
  strict?: boolean | null;
};

/** Built-in tools (`web_search`, `local_shell`, …) are typed loosely: the chat translation drops them. */
export type ResponsesTool = ResponsesFunctionTool | { type: string };

export type ResponsesToolChoice = "auto" | "none" | "required" | { type: "function"; name: string };

export type ResponsesRequest = {
  model: string;
  input: string | ResponsesInputItem[];
  instructions?: string | null;
  tools?: ResponsesTool[];
  tool_choice?: ResponsesToolChoice;
  parallel_tool_calls?: boolean;
  stream?: boolean;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  user?: string;
  store?: boolean;
};

export type ResponsesOutputMessage = {
  type: "message";
  id: string;
  status: "in_progress" | "completed" | "incomplete";
  role: "assistant";
  content: ResponsesOutputText[];
};

export type ResponsesOutputFunctionCall = {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: "in_progress" | "completed" | "incomplete";
};

export type ResponsesOutputItem = ResponsesOutputMessage | ResponsesOutputFunctionCall;

export type ResponsesUsage = {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  input_tokens_details?: { cached_tokens: number };
  output_tokens_details?: { reasoning_tokens: number };
};

export type ResponsesStatus = "in_progress" | "completed" | "incomplete" | "failed";

export type ResponsesResponse = {
  id: string;
  object: "response";
  created_at: number;
  model: string;
  status: ResponsesStatus;
  output: ResponsesOutputItem[];
  usage: ResponsesUsage | null;
  /** Set when `status` is `incomplete`, e.g. `{ reason: "max_output_tokens" }`. */
  incomplete_details: { reason: string } | null;
  error: { code: string; message: string } | null;
};

type Seq = { sequence_number: number };
type ItemRef = { item_id: string; output_index: number };
type PartRef = ItemRef & { content_index: number };

/** The streaming events; each arrives as an SSE frame whose `event:` equals its `type`. */
export type ResponsesStreamEvent = Seq &
  (
    | { type: "response.created"; response: ResponsesResponse }
    | { type: "response.in_progress"; response: ResponsesResponse }
    | { type: "response.output_item.added"; output_index: number; item: ResponsesOutputItem }
    | ({ type: "response.content_part.added"; part: ResponsesOutputText } & PartRef)
    | ({ type: "response.output_text.delta"; delta: string } & PartRef)
    | ({ type: "response.output_text.done"; text: string } & PartRef)
    | ({ type: "response.content_part.done"; part: ResponsesOutputText } & PartRef)
    | ({ type: "response.function_call_arguments.delta"; delta: string } & ItemRef)
    | ({ type: "response.function_call_arguments.done"; arguments: string } & ItemRef)
    | { type: "response.output_item.done"; output_index: number; item: ResponsesOutputItem }
    | { type: "response.completed"; response: ResponsesResponse }
    | { type: "response.incomplete"; response: ResponsesResponse }
    | { type: "response.failed"; response: ResponsesResponse }
  );

/** The Responses API sends errors in the OpenAI shape. */
export type ResponsesErrorBody = {
  error: { message: string; type: string; param: string | null; code: string | null };
};
