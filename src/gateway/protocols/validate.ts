/** The minimum an incoming request must hold, checked at the edge; unknown fields pass through untouched. */
import { z } from "zod";
import type { AnthropicRequest } from "./anthropic-types.ts";
import type { ChatCompletionRequest } from "./openai-types.ts";
import { anthropicAccepted, chatAccepted, responsesAccepted } from "./quick-accept.ts";
import type { ResponsesRequest } from "./responses-types.ts";

/** A checked request, or one line naming the first wrong field, e.g. `messages: must be a non-empty array`. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** A zod error message: "is required" when the field is absent, else "must be …". */
const expected =
  (what: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? `is required (${what})` : `must be ${what}`;

const modelName = z.string({ error: expected("a string") }).min(1, { error: "must not be empty" });
const nonEmptyArray = <T extends z.ZodType>(item: T) =>
  z.array(item, { error: expected("a non-empty array") }).min(1, { error: "must be a non-empty array" });
const typedPart = z.looseObject(
  { type: z.string({ error: expected("a string") }) },
  { error: expected("an object") },
);
const content = z.union([z.string(), z.array(typedPart), z.null()], {
  error: "must be a string or an array of content parts",
});

const chatToolCall = z.looseObject(
  {
    id: z.string({ error: expected("a string") }),
    function: z.looseObject(
      {
        name: z.string({ error: expected("a string") }),
        arguments: z.string({ error: expected("a string") }).optional(),
      },
      { error: expected("an object") },
    ),
  },
  { error: expected("an object") },
);

const chatMessage = z.looseObject(
  {
    role: z.enum(["system", "developer", "user", "assistant", "tool"], {
      error: 'must be one of "system", "developer", "user", "assistant", "tool"',
    }),
    content: content.optional(),
    tool_calls: z.array(chatToolCall, { error: expected("an array") }).nullish(),
    tool_call_id: z.string({ error: expected("a string") }).optional(),
  },
  { error: expected("an object") },
);

const chatRequest = z.looseObject(
  {
    model: modelName,
    messages: nonEmptyArray(chatMessage),
    tools: z.array(z.looseObject({ type: z.string() }), { error: expected("an array") }).nullish(),
    stream: z.boolean({ error: expected("a boolean") }).nullish(),
  },
  { error: "must be a JSON object" },
);

const anthropicMessage = z.looseObject(
  {
    role: z.enum(["user", "assistant"], { error: 'must be "user" or "assistant"' }),
    content: z.union([z.string(), z.array(typedPart)], {
      error: "must be a string or an array of content blocks",
    }),
  },
  { error: expected("an object") },
);

const anthropicRequest = z.looseObject(
  {
    model: modelName,
    max_tokens: z
      .number({ error: expected("a number") })
      .int({ error: "must be an integer" })
      .positive({ error: "must be positive" }),
    messages: nonEmptyArray(anthropicMessage),
    system: z
      .union([z.string(), z.array(typedPart)], { error: "must be a string or an array of text blocks" })
      .optional(),
    stream: z.boolean({ error: expected("a boolean") }).optional(),
  },
  { error: "must be a JSON object" },
);

const responsesRequest = z.looseObject(
  {
    model: modelName,
    input: z.union([z.string(), z.array(z.looseObject({}, { error: expected("an object") }))], {
      error: (issue) =>
        issue.input === undefined
          ? "is required (a string or an array of items)"
          : "must be a string or an array of items",
    }),
    stream: z.boolean({ error: expected("a boolean") }).nullish(),
  },
  { error: "must be a JSON object" },
);

/** The schemas themselves, for the test that holds quick-accept.ts to them. */
export const requestSchemas = { chat: chatRequest, anthropic: anthropicRequest, responses: responsesRequest };

function check<T>(
  accepted: (body: unknown) => boolean,
  schema: z.ZodType,
  body: unknown,
): ValidationResult<T> {
  // The common case costs no copy and no zod; zod names the wrong field when there is one.
  if (accepted(body)) return { ok: true, value: body as T };
  const result = schema.safeParse(body);
  // The schema checks what the gateway and its translators rely on; the rest is the client's to get
  // right and the upstream's to judge, so it travels on unchanged.
  if (result.success) return { ok: true, value: result.data as T };
  const [issue] = result.error.issues;
  const path = issue && issue.path.length > 0 ? formatPath(issue.path) : "body";
  return { ok: false, message: `${path}: ${issue?.message ?? "is invalid"}` };
}

/** `messages[2].content`, as a reader would write the path. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join("");
}

/** Checks a Chat Completions request: `model` a string, `messages` a non-empty array of role-tagged messages. */
export function validateChatRequest(body: unknown): ValidationResult<ChatCompletionRequest> {
  return check<ChatCompletionRequest>(chatAccepted, chatRequest, body);
}

/** Checks an Anthropic Messages request: `model`, a positive integer `max_tokens`, non-empty `messages`. */
export function validateAnthropicRequest(body: unknown): ValidationResult<AnthropicRequest> {
  return check<AnthropicRequest>(anthropicAccepted, anthropicRequest, body);
}

/** Checks a Responses request: `model` and `input` (a string or an array of items). */
export function validateResponsesRequest(body: unknown): ValidationResult<ResponsesRequest> {
  return check<ResponsesRequest>(responsesAccepted, responsesRequest, body);
}
