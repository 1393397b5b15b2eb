/** Stream translation between the client protocols; one file per direction, gathered here. */
export {
  anthropicStreamToOpenai,
  type AnthropicStreamToOpenaiOptions,
} from "./anthropic-to-openai-stream.ts";
export {
  openaiStreamToAnthropic,
  type OpenaiStreamToAnthropicOptions,
} from "./openai-to-anthropic-stream.ts";
export {
  openaiStreamToResponses,
  type OpenaiStreamToResponsesOptions,
} from "./openai-to-responses-stream.ts";
export type { StreamTransformOptions } from "./stream-input.ts";
