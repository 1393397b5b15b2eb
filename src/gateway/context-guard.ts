/**
 * Context guard: estimates a prompt's tokens cheaply and applies the configured strategy when it does not
 * fit the model's window: reject, middle-out (drop whole middle turns, keep system, first user message
 * and the latest turns), or upgrade (the caller picks a later chain entry with a larger window).
 */
import { estimateTokens } from "./protocols/usage.ts";

export { estimateTokens };

/** Context windows of well-known models, in tokens; config `contextWindow` wins over this table. */
const KNOWN_WINDOWS: Array<[RegExp, number]> = [
  [/^claude-(opus|sonnet|haiku)-4/, 200_000],
  [/^claude-3/, 200_000],
  [/^gpt-4\.1/, 1_047_576],
  [/^gpt-4o/, 128_000],
  [/^gpt-5/, 400_000],
  [/^o[134]/, 200_000],
  [/^llama-3\.[13]-70b/, 131_072],
  [/^llama-3\.1-8b/, 131_072],
  [/^sim-small/, 8_192],
  [/^sim-/, 32_768],
];
export const DEFAULT_WINDOW = 32_768;

export function contextWindow(model: string, configured?: number): number {
  if (configured !== undefined) return configured;
  return KNOWN_WINDOWS.find(([pattern]) => pattern.test(model))?.[1] ?? DEFAULT_WINDOW;
}

interface Message {
  role?: unknown;
  content?: unknown;
}

function isToolResult(message: Message): boolean {
  if (message.role === "tool") return true;
  return (
    Array.isArray(message.content) &&
    message.content.some((block) => (block as { type?: unknown }).type === "tool_result")
  );
}

/** Index ranges of turns: a turn starts at a user message that is not a tool result. */
function turns(messages: Message[], from: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let start = from;
  for (let i = from + 1; i <= messages.length; i++) {
    const message = messages[i];
    if (i === messages.length || (message?.role === "user" && !isToolResult(message))) {
      ranges.push([start, i]);
      start = i;
    }
  }
  return ranges;
}

/**
 * Drops whole middle turns until the estimate fits `budget` tokens. Keeps leading system messages, the first
 * user message and as many of the latest turns as fit. Returns undefined when even that does not fit.
 */
export function middleOut<T extends Message>(
  messages: T[],
  budget: number,
  overhead = 0,
): { messages: T[]; dropped: number } | undefined {
  let head = 0;
  while (head < messages.length && messages[head]?.role === "system") head++;
  const ranges = turns(messages, head);
  if (ranges.length <= 2) return undefined;
  // System messages and the first user message (the task); its replies count as middle.
  const kept = messages.slice(0, head + 1);
  const tail: T[] = [];
  let used = overhead + estimateTokens(kept);
  if (used > budget) return undefined;
  for (let r = ranges.length - 1; r >= 1; r--) {
    const [start, end] = ranges[r] as [number, number];
    const turn = messages.slice(start, end);
    const cost = estimateTokens(turn);
    if (used + cost > budget) break;
    tail.unshift(...turn);
    used += cost;
  }
  if (tail.length === 0) return undefined;
  return { messages: [...kept, ...tail], dropped: messages.length - kept.length - tail.length };
}
