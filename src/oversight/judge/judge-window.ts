/** Judges one transcript window: the call, then the verdict checked against the window. Shared by the check and eval. */
import { callJudge } from "./judge-client.ts";
import { judgeMessages } from "./prompt.ts";
import { type CheckedVerdict, checkVerdict } from "./verdict.ts";

export interface JudgeTarget {
  gatewayUrl: string;
  key: string;
  model: string;
  timeoutMs: number;
}

export type WindowVerdict =
  ({ ok: true; tokens: number } & CheckedVerdict) | { ok: false; reason: string; tokens: 0 };

export async function judgeWindow(
  target: JudgeTarget,
  agent: string,
  window: string,
  maxTokens: number,
): Promise<WindowVerdict> {
  const call = await callJudge({ ...target, messages: judgeMessages(agent, window), maxTokens });
  if (!call.ok) return call;
  return { ok: true, tokens: call.tokens, ...checkVerdict(call.answer, window) };
}
