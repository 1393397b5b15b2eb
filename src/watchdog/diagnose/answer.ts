/**
 * The model's answer checked against the diagnosis schema by hand: `{ diagnosis, confidence, actions }`.
 * The actions' items are not judged here: the fix policy judges each one, garbage included.
 */

export type ParsedDiagnosis =
  | { ok: true; value: { diagnosis: string; confidence: number; actions: unknown[] } }
  | { ok: false; reason: string };

const LIMITS = {
  /** Characters of the answer read at all. */
  answerChars: 64 * 1024,
  diagnosisChars: 2000,
  /** Characters of the fields besides the three (a model may add a short note; not an essay). */
  extraChars: 2000,
};

const FENCED = /^```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n?```$/i;

function fail(reason: string): ParsedDiagnosis {
  return { ok: false, reason };
}

/** Parses and checks the model's text; a clear reason when it is not JSON or not the schema. */
export function parseDiagnosis(text: string): ParsedDiagnosis {
  if (text.length > LIMITS.answerChars)
    return fail(`the answer is ${text.length} characters, more than ${LIMITS.answerChars}`);
  const trimmed = text.trim();
  const fenced = FENCED.exec(trimmed);
  const json = fenced ? (fenced[1] ?? "") : trimmed;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    const start = JSON.stringify(trimmed.slice(0, 60));
    return fail(`not JSON (${(err as Error).message.split("\n")[0]}); it starts ${start}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    return fail(
      `not a JSON object but ${Array.isArray(parsed) ? "an array" : parsed === null ? "null" : typeof parsed}`,
    );
  const { diagnosis, confidence, actions, ...extra } = parsed as Record<string, unknown>;
  if (typeof diagnosis !== "string" || diagnosis.trim() === "")
    return fail("diagnosis: must be a non-empty string");
  if (diagnosis.length > LIMITS.diagnosisChars)
    return fail(`diagnosis: ${diagnosis.length} characters, more than ${LIMITS.diagnosisChars}`);
  if (typeof confidence !== "number" || !Number.isFinite(confidence) || confidence < 0 || confidence > 1)
    return fail(
      `confidence: must be a number from 0 to 1, not ${JSON.stringify(confidence)?.slice(0, 40) ?? "missing"}`,
    );
  if (!Array.isArray(actions)) return fail("actions: must be an array (empty when nothing should run)");
  const extraChars = JSON.stringify(extra).length;
  if (extraChars > LIMITS.extraChars)
    return fail(
      `fields besides diagnosis, confidence and actions (${Object.keys(extra).join(", ")}) take ${extraChars} characters, more than ${LIMITS.extraChars}`,
    );
  return { ok: true, value: { diagnosis, confidence, actions } };
}
