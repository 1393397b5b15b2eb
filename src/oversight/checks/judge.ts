/**
 * The judge: for what code cannot settle, the coordinator's new transcript is read by another model
 * (oversight.model) through Flotilla's gateway under the judge's own identity. It costs nothing when
 * nothing happened (no new bytes, no call), spends at most oversight.maxTokensPerRun a run, and its
 * failures (unavailable, malformed, unquoted) are findings of check `judge`, never a pass.
 */
import { createHash } from "node:crypto";
import { JUDGE_IDENTITY } from "../../config/cross-field.ts";
import type { AgentConfig, FlotillaConfig } from "../../config/schema.ts";
import { gatewayUrl } from "../../fleet/fleet-wiring.ts";
import { virtualKey } from "../../gateway/virtual-keys.ts";
import type { Check } from "../check.ts";
import type { FindingDraft } from "../finding.ts";
import { JUDGE_ERROR_CHECK } from "../judge/judge-checks.ts";
import { type JudgeTarget, judgeWindow } from "../judge/judge-window.ts";
import { PROMPT_OVERHEAD_CHARS } from "../judge/prompt.ts";
import { transcriptReader } from "../transcripts/new-transcript.ts";

/** The judge's cursors are its own: other checks reading the same transcripts keep theirs. */
export const JUDGE_READER = "judge";
/** Output tokens one verdict may take (max_tokens), and below which a call is not worth making. */
const ANSWER_TOKENS = 1024;
const MIN_ANSWER_TOKENS = 128;
/** Characters per token when bounding a prompt before sending it (the gateway's usage counts after). */
const CHARS_PER_TOKEN = 4;
const MIN_WINDOW_CHARS = 400;

const hashOf = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

/** The agents whose transcripts the judge reads: the coordinators and the agent injection goes to. */
export function judgedAgents(config: FlotillaConfig): AgentConfig[] {
  const inject = config.oversight.inject.agent;
  return config.agents.filter((agent) => agent.role === "coordinator" || agent.name === inject);
}

function judgeNote(
  severity: FindingDraft["severity"],
  agent: string | null,
  key: string,
  evidence: string,
  suggestion: string,
): FindingDraft {
  return { check: JUDGE_ERROR_CHECK, severity, agent, article: null, evidence, suggestion, key };
}

export interface JudgeCheckOptions {
  /** The gateway's base URL (default: from gateway.listen). */
  gatewayUrl?: string;
}

export function createJudgeCheck(options: JudgeCheckOptions = {}): Check {
  return {
    name: "judge",
    async run(context) {
      const { config } = context;
      const model = config.oversight.model;
      const agents = judgedAgents(config);
      if (model === undefined) return [];
      // A judge with nothing to read must say so: an evaluation that silently never runs is the failure to avoid.
      if (agents.length === 0)
        return [
          judgeNote(
            "info",
            null,
            "no-coordinator",
            "the judge has no agent to read: no agent has role coordinator and oversight.inject.agent is not set",
            "Give the coordinator role: coordinator, or unset oversight.model",
          ),
        ];
      const reader = transcriptReader(config, JUDGE_READER);
      const drafts: FindingDraft[] = [];
      const unavailable = (reason: string) =>
        judgeNote(
          "warning",
          null,
          "unavailable",
          `judge unavailable: ${reason}`,
          "Check the gateway and the judge model's provider (flotilla status, flotilla events); the transcript is judged on the next run",
        );
      let key: string;
      try {
        key = virtualKey(config.stateDir, JUDGE_IDENTITY);
      } catch (err) {
        return [unavailable((err as Error).message)];
      }
      const target: JudgeTarget = {
        gatewayUrl: options.gatewayUrl ?? gatewayUrl(config.gateway.listen),
        key,
        model,
        timeoutMs: config.oversight.judgeTimeout,
      };
      const budget = config.oversight.maxTokensPerRun;
      let spent = 0;
      const handled: string[] = [];
      for (const [index, agent] of agents.entries()) {
        const left = budget - spent;
        const answerTokens = Math.min(ANSWER_TOKENS, Math.floor(left / 4));
        const promptChars = (left - answerTokens) * CHARS_PER_TOKEN - PROMPT_OVERHEAD_CHARS;
        if (answerTokens < MIN_ANSWER_TOKENS || promptChars < MIN_WINDOW_CHARS) {
          const waiting = agents.slice(index).map((a) => a.name);
          drafts.push(
            judgeNote(
              "info",
              null,
              "budget",
              `judge budget spent: ${spent} of ${budget} tokens (oversight.maxTokensPerRun); ${waiting.join(", ")} wait for the next run`,
              "Raise oversight.maxTokensPerRun or run oversight more often if the judge falls behind",
            ),
          );
          break;
        }
        const transcript = reader.read(agent, Math.min(config.oversight.transcriptReadLimit, promptChars));
        for (const problem of transcript.problems)
          drafts.push(
            judgeNote(
              "warning",
              agent.name,
              `transcript:${hashOf(problem)}`,
              problem,
              "Fix the transcript source so the judge can read it",
            ),
          );
        if (!transcript.hasSource)
          drafts.push(
            judgeNote(
              "info",
              agent.name,
              "no-transcript",
              `the judge has no transcript of ${agent.name} to read (not OpenClaw, or OpenClaw has not run yet, and no oversight.transcripts.${agent.name})`,
              `Set oversight.transcripts.${agent.name} to the file its harness writes its transcript to`,
            ),
          );
        if (transcript.text.trim() === "") {
          handled.push(agent.name);
          continue;
        }
        // One OpenClaw event may be larger than the limit: judge its end, the newest part.
        const window =
          transcript.text.length > promptChars ? transcript.text.slice(-promptChars) : transcript.text;
        const verdict = await judgeWindow(target, agent.name, window, answerTokens);
        if (!verdict.ok) {
          // This agent's window stays unread: the next run judges it.
          drafts.push(unavailable(verdict.reason));
          break;
        }
        spent += verdict.tokens;
        handled.push(agent.name);
        for (const finding of verdict.findings)
          drafts.push({
            check: finding.check,
            severity: finding.severity,
            agent: agent.name,
            article: finding.article ?? null,
            evidence: finding.evidence,
            suggestion: finding.suggestion,
            key: hashOf(finding.evidence),
          });
        for (const error of verdict.errors)
          drafts.push(
            judgeNote(
              "warning",
              agent.name,
              `error:${hashOf(error)}`,
              `judge error (counted, not a pass): ${error}`,
              "Measure the judge model with flotilla oversight eval; pick one that answers in the verdict schema and quotes",
            ),
          );
        if (transcript.truncated || window !== transcript.text)
          drafts.push(
            judgeNote(
              "info",
              agent.name,
              "backlog",
              `${agent.name}'s transcript grew faster than one run reads (${transcript.bytes} bytes judged); the rest waits for the next run`,
              "Raise oversight.transcriptReadLimit or oversight.maxTokensPerRun if this persists",
            ),
          );
      }
      reader.commit(handled);
      return drafts;
    },
  };
}

export const judgeCheck: Check = createJudgeCheck();
