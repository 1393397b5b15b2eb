/**
 * The accepting half of validate.ts's schemas, without zod: plain checks that say yes only when the schema
 * would, and never copy the body. Every request a client gets right (nearly all of them) is checked here;
 * zod runs only on a refusal, to name the wrong field. A test holds the two to agreement.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isModel = (v: unknown) => typeof v === "string" && v.length > 0;
const absent = (v: unknown) => v === undefined;
const nullish = (v: unknown) => v === undefined || v === null;
const isTypedPart = (v: unknown) => isObject(v) && typeof v.type === "string";

function every(v: unknown, item: (x: unknown) => boolean, nonEmpty = false): boolean {
  if (!Array.isArray(v) || (nonEmpty && v.length === 0)) return false;
  for (const x of v) if (!item(x)) return false;
  return true;
}

const CHAT_ROLES = new Set(["system", "developer", "user", "assistant", "tool"]);

function isChatToolCall(v: unknown): boolean {
  if (!isObject(v) || typeof v.id !== "string" || !isObject(v.function)) return false;
  const fn = v.function;
  return typeof fn.name === "string" && (absent(fn.arguments) || typeof fn.arguments === "string");
}

function isChatMessage(v: unknown): boolean {
  if (!isObject(v) || typeof v.role !== "string" || !CHAT_ROLES.has(v.role)) return false;
  const { content } = v;
  if (!(absent(content) || content === null || typeof content === "string" || every(content, isTypedPart)))
    return false;
  if (!(nullish(v.tool_calls) || every(v.tool_calls, isChatToolCall))) return false;
  return absent(v.tool_call_id) || typeof v.tool_call_id === "string";
}

export function chatAccepted(body: unknown): boolean {
  return (
    isObject(body) &&
    isModel(body.model) &&
    every(body.messages, isChatMessage, true) &&
    (nullish(body.tools) || every(body.tools, isTypedPart)) &&
    (nullish(body.stream) || typeof body.stream === "boolean")
  );
}

function isAnthropicMessage(v: unknown): boolean {
  if (!isObject(v) || (v.role !== "user" && v.role !== "assistant")) return false;
  return typeof v.content === "string" || every(v.content, isTypedPart);
}

export function anthropicAccepted(body: unknown): boolean {
  if (!isObject(body)) return false;
  const { max_tokens: maxTokens, system } = body;
  return (
    isModel(body.model) &&
    typeof maxTokens === "number" &&
    Number.isSafeInteger(maxTokens) &&
    maxTokens > 0 &&
    every(body.messages, isAnthropicMessage, true) &&
    (absent(system) || typeof system === "string" || every(system, isTypedPart)) &&
    (absent(body.stream) || typeof body.stream === "boolean")
  );
}

export function responsesAccepted(body: unknown): boolean {
  return (
    isObject(body) &&
    isModel(body.model) &&
    (typeof body.input === "string" || every(body.input, isObject)) &&
    (nullish(body.stream) || typeof body.stream === "boolean")
  );
}
