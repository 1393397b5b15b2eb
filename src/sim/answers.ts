/** What the simulated model says: a scripted reply, a tool call while tools are offered and none has answered yet, or deterministic text. */
import type { SimOptions } from "./options.ts";

export interface Answer {
  text: string;
  toolCall?: { id: string; name: string; arguments: Record<string, unknown> };
  promptTokens: number;
  completionTokens: number;
}

interface Message {
  role?: unknown;
  content?: unknown;
}

/** A small seeded PRNG (mulberry32): runs are reproducible, unlike Math.random. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function text(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) =>
      typeof (part as { text?: unknown }).text === "string" ? (part as { text: string }).text : "",
    )
    .join(" ");
}

function isToolResult(message: Message): boolean {
  return (
    message.role === "tool" ||
    (Array.isArray(message.content) &&
      message.content.some((b) => (b as { type?: unknown }).type === "tool_result"))
  );
}

function lastUserMessage(messages: Message[]): Message | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as Message;
    if (message.role === "user" && !isToolResult(message)) return message;
  }
  return undefined;
}

/** True once a tool result arrived after the model's last turn: then the model must answer in text (else clients loop). */
function toolAnswered(messages: Message[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as Message;
    if (isToolResult(message)) return true;
    if (message.role === "assistant") return false;
  }
  return false;
}

const WORDS = [
  "the",
  "fleet",
  "runs",
  "steady",
  "agents",
  "share",
  "keys",
  "fairly",
  "and",
  "nothing",
  "is",
  "lost",
];

/** The answerer of one simulator: the generated sentences (one per starting word) are made once, not per request. */
export function createAnswerer(options: SimOptions, nextId: () => string) {
  const sentences = WORDS.map((_, first) =>
    Array.from({ length: options.words }, (_, i) => WORDS[(first + i) % WORDS.length]).join(" "),
  );
  return (request: { messages: Message[]; toolNames: string[]; promptChars: number }): Answer => {
    const prompt = text(lastUserMessage(request.messages)?.content);
    const scripted = options.script.find((s) => s.match === undefined || prompt.includes(s.match));
    const promptTokens = Math.ceil(request.promptChars / 4);
    const wantsTool = request.toolNames.length > 0 && !toolAnswered(request.messages);
    if (wantsTool && (scripted?.toolCall || !scripted?.reply)) {
      const call = scripted?.toolCall ?? {
        name: request.toolNames[0] as string,
        arguments: { query: prompt.slice(0, 40) },
      };
      return { text: "", toolCall: { id: nextId(), ...call }, promptTokens, completionTokens: 12 };
    }
    const reply = scripted?.reply ?? (sentences[prompt.length % WORDS.length] as string);
    return { text: reply, promptTokens, completionTokens: Math.max(1, Math.ceil(reply.length / 4)) };
  };
}
