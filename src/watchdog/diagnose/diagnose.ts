/**
 * One diagnosis: the cached answer for the same symptoms within `reuseDiagnosisFor`, else one walk of the
 * model's chain, the answer checked against the schema. No model, no answer or a bad answer: no diagnosis,
 * and the watchdog takes the deterministic path.
 */
import { createHash } from "node:crypto";
import type { FlotillaConfig } from "../../config/schema.ts";
import type {
  Diagnosis,
  DiagnosisCache,
  Evidence,
  NoDiagnosis,
  ProbeResult,
  ProposedAction,
  Target,
} from "../types.ts";
import { parseDiagnosis } from "./answer.ts";
import { callDiagnosisModel } from "./model-client.ts";
import { diagnosisPrompt } from "./prompt.ts";

export interface DiagnoseDeps {
  config: FlotillaConfig;
  env: NodeJS.ProcessEnv;
  cache: DiagnosisCache;
  now: number;
}

/**
 * A line with what changes between two occurrences of the same failure collapsed: times, hex ids and
 * numbers (pids, ports, counters, durations).
 */
function normalize(line: string): string {
  return line
    .replace(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, "<time>")
    .replace(/\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b/g, "<time>")
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{6,}\b/gi, "<hex>")
    .replace(/\d+/g, "#");
}

/** The symptoms' identity: the target, what the probes saw and the evidence, with times and ids collapsed. */
export function symptomFingerprint(target: Target, seen: ProbeResult[], evidence: Evidence): string {
  const symptoms = {
    target: target.id,
    probes: seen.map((probe) => `${probe.state} ${normalize(probe.detail)}`),
    logs: evidence.logs.map(normalize),
    config: normalize(evidence.configCheck),
  };
  return createHash("sha256").update(JSON.stringify(symptoms)).digest("hex");
}

/** Diagnoses the target (or reuses the last diagnosis of the same symptoms); never throws. */
export async function diagnose(
  target: Target,
  seen: ProbeResult[],
  evidence: Evidence,
  deps: DiagnoseDeps,
): Promise<{ result: Diagnosis | NoDiagnosis; modelCalls: number }> {
  const { watchdog } = deps.config;
  if (watchdog.model === undefined)
    return { result: { unavailable: "no watchdog.model: deterministic path" }, modelCalls: 0 };
  const fingerprint = symptomFingerprint(target, seen, evidence);
  const cached = deps.cache.get(fingerprint, deps.now - watchdog.reuseDiagnosisFor);
  if (cached) return { result: { ...cached, source: "cache" }, modelCalls: 0 };
  const prompt = diagnosisPrompt(target, seen, evidence, deps.config.stateDir);
  const { result, calls } = await callDiagnosisModel(
    deps.config,
    deps.env,
    prompt,
    watchdog.diagnosisTimeout,
  );
  if (!result.ok)
    return { result: { unavailable: `model unavailable: ${result.reason}` }, modelCalls: calls };
  const answer = parseDiagnosis(result.text);
  if (!answer.ok) return { result: { unavailable: `model answer: ${answer.reason}` }, modelCalls: calls };
  const diagnosis: Diagnosis = {
    diagnosis: answer.value.diagnosis,
    confidence: answer.value.confidence,
    // Unchecked on purpose: the fix policy judges every item, whatever its shape, and records its refusals.
    actions: answer.value.actions as ProposedAction[],
    source: "model",
    model: result.model,
  };
  deps.cache.put(fingerprint, diagnosis, deps.now);
  return { result: diagnosis, modelCalls: calls };
}
