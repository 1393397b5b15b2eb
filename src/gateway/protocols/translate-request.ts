/** Request translation between the three client protocols; one file per direction, gathered here. */
export { anthropicToOpenai, type AnthropicToOpenaiOptions } from "./anthropic-to-openai-request.ts";
export { openaiToAnthropic, type OpenaiToAnthropicOptions } from "./openai-to-anthropic-request.ts";
export { responsesToOpenai, type ResponsesToOpenaiOptions } from "./responses-to-openai-request.ts";
