/**
 * One judge call through Flotilla's gateway (OpenAI chat completions) under the judge's own identity,
 * bounded in time and in output tokens. A refusal, a rate limit or silence is "unavailable", never a pass.
 */
import type { ChatMessage } from "./prompt.ts";

export interface JudgeCallOptions {
  /** The gateway's base URL, such as http://127.0.0.1:48300. */
  gatewayUrl: string;
  /** The judge's virtual key. */
  key: string;
  /** The logical model (oversight.model). */
  model: string;
  messages: ChatMessage[];
  maxTokens: number;
  timeoutMs: number;
}

export type JudgeCall =
  { ok: true; answer: string; tokens: number } | { ok: false; reason: string; tokens: 0 };

interface Completion {
  choices?: Array<{ message?: { content?: unknown } }>;
  usage?: { total_tokens?: unknown; prompt_tokens?: unknown; completion_tokens?: unknown };
}

function usedTokens(body: Completion, estimate: number): number {
  const usage = body.usage;
  if (typeof usage?.total_tokens === "number") return usage.total_tokens;
  const parts = [usage?.prompt_tokens, usage?.completion_tokens].filter((n) => typeof n === "number");
  return parts.length > 0 ? (parts as number[]).reduce((a, b) => a + b, 0) : estimate;
}

/** Asks the judge once; never throws. */
export async function callJudge(options: JudgeCallOptions): Promise<JudgeCall> {
  const estimate = Math.ceil(JSON.stringify(options.messages).length / 4) + options.maxTokens;
  let res: Response;
  try {
    res = await fetch(`${options.gatewayUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${options.key}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: options.model,
        messages: options.messages,
        max_tokens: options.maxTokens,
        temperature: 0,
      }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    const timedOut = (err as Error).name === "TimeoutError";
    return {
      ok: false,
      tokens: 0,
      reason: timedOut
        ? `no answer within ${options.timeoutMs} ms (oversight.judgeTimeout)`
        : `the gateway at ${options.gatewayUrl} cannot be reached (${(err as Error).message})`,
    };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    return { ok: false, tokens: 0, reason: `the answer broke off (${(err as Error).message})` };
  }
  if (!res.ok) {
    const what = res.status === 429 ? "rate limited (429)" : `answered ${res.status}`;
    let message = "";
    try {
      const error = (JSON.parse(text) as { error?: { message?: unknown } }).error;
      if (typeof error?.message === "string") message = `: ${error.message.slice(0, 200)}`;
    } catch {
      // Not JSON: the status says enough.
    }
    return { ok: false, tokens: 0, reason: `the gateway ${what}${message}` };
  }
  let body: Completion;
  try {
    body = JSON.parse(text) as Completion;
  } catch {
    return { ok: true, answer: text, tokens: estimate };
  }
  const content = body.choices?.[0]?.message?.content;
  return {
    ok: true,
    answer: typeof content === "string" ? content : text,
    tokens: usedTokens(body, estimate),
  };
}
