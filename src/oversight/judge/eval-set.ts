/** A labelled set of transcript windows for `flotilla oversight eval`: JSON lines, each a window and the judge checks it should raise. */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { FlotillaError } from "../../errors.ts";
import { JUDGE_CHECK_NAMES } from "./judge-checks.ts";

export const evalWindowSchema = z.strictObject({
  id: z.string().min(1),
  agent: z.string().min(1).prefault("coordinator"),
  transcript: z.string().min(1),
  labels: z.array(z.enum(JUDGE_CHECK_NAMES)),
});

export type EvalWindow = z.output<typeof evalWindowSchema>;

/** Reads and checks every line; the first wrong one is named with its line number and field. */
export function readEvalSet(file: string): EvalWindow[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new FlotillaError(
      "FLOTILLA_E_EVAL_SET_INVALID",
      `${file}: cannot read the labelled set (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path`,
    );
  }
  const windows: EvalWindow[] = [];
  const ids = new Set<string>();
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const where = `${file}:${index + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new FlotillaError(
        "FLOTILLA_E_EVAL_SET_INVALID",
        `${where}: not JSON; write one JSON object per line`,
      );
    }
    const parsed = evalWindowSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new FlotillaError(
        "FLOTILLA_E_EVAL_SET_INVALID",
        `${where}: ${issue?.path.join(".") || "the line"}: ${issue?.message ?? "invalid"} (fields: id, agent, transcript, labels of ${JUDGE_CHECK_NAMES.join(", ")})`,
      );
    }
    if (ids.has(parsed.data.id))
      throw new FlotillaError("FLOTILLA_E_EVAL_SET_INVALID", `${where}: duplicate id "${parsed.data.id}"`);
    ids.add(parsed.data.id);
    windows.push(parsed.data);
  }
  if (windows.length === 0)
    throw new FlotillaError(
      "FLOTILLA_E_EVAL_SET_INVALID",
      `${file}: no windows; write one JSON object per line`,
    );
  return windows;
}
