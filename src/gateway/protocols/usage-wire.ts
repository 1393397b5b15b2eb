/** Usage objects carried from one protocol's shape to another's, keeping cached-token counts. */
import type { AnthropicUsage } from "./anthropic-types.ts";
import type { ChatUsage } from "./openai-types.ts";
import type { ResponsesUsage } from "./responses-types.ts";

/** OpenAI counts cached tokens inside `prompt_tokens`; Anthropic counts cache writes and reads apart. */
export function anthropicUsageToChat(usage: Partial<AnthropicUsage>): ChatUsage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + cacheRead;
  const completion = usage.output_tokens ?? 0;
  const out: ChatUsage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (cacheRead > 0) out.prompt_tokens_details = { cached_tokens: cacheRead };
  return out;
}

export function chatUsageToAnthropic(usage: ChatUsage | null | undefined): AnthropicUsage {
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  const out: AnthropicUsage = {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
    output_tokens: usage?.completion_tokens ?? 0,
  };
  if (cached > 0) out.cache_read_input_tokens = cached;
  return out;
}

export function chatUsageToResponses(usage: ChatUsage | null | undefined): ResponsesUsage {
  const input = usage?.prompt_tokens ?? 0;
  const output = usage?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    output_tokens: output,
    total_tokens: usage?.total_tokens ?? input + output,
    input_tokens_details: { cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens_details: { reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0 },
  };
}
