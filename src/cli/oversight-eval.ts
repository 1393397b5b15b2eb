/**
 * `flotilla oversight eval FILE [--model NAME] [--json]`: scores the judge against a labelled set of
 * transcript windows (precision and recall per check) through the running fleet's gateway, under the
 * judge's own identity, so an operator can measure a model before trusting it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { JUDGE_IDENTITY } from "../config/cross-field.ts";
import { FlotillaError } from "../errors.ts";
import { gatewayUrl } from "../fleet/fleet-wiring.ts";
import { virtualKey } from "../gateway/virtual-keys.ts";
import { JUDGE_CHECK_NAMES, type JudgeCheck } from "../oversight/judge/judge-checks.ts";
import { readEvalSet } from "../oversight/judge/eval-set.ts";
import { scoreOutcomes, type WindowOutcome } from "../oversight/judge/eval-score.ts";
import { judgeWindow } from "../oversight/judge/judge-window.ts";
import { type CommandInput, type OptionSpec, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";

export const OVERSIGHT_EVAL_USAGE = "flotilla oversight eval FILE [--model NAME] [-c FILE] [--json]";
export const OVERSIGHT_EVAL_OPTIONS: OptionSpec = { model: { type: "string" } };

/** Output tokens one verdict may take, as in a run. */
const ANSWER_TOKENS = 1024;

const ratio = (value: number | null) => (value === null ? "-" : value.toFixed(2));

/** Runs the eval; `input.positionals` holds FILE (the `eval` word already taken off). */
export async function oversightEval(input: CommandInput): Promise<number> {
  const [file] = input.positionals;
  if (!file)
    throw new FlotillaError("FLOTILLA_E_USAGE", `name the labelled set; usage: ${OVERSIGHT_EVAL_USAGE}`);
  const windows = readEvalSet(file);
  const { config } = loadForCli(input);
  const model = typeof input.values.model === "string" ? input.values.model : config.oversight.model;
  if (model === undefined)
    throw new FlotillaError(
      "FLOTILLA_E_JUDGE_UNAVAILABLE",
      "no judge model: set oversight.model (the gateway gives the judge its identity only then), or pass --model",
    );
  if (!(model in config.models))
    throw new FlotillaError(
      "FLOTILLA_E_USAGE",
      `no logical model "${model}" (models: ${Object.keys(config.models).join(", ") || "none"})`,
    );
  if (config.oversight.model === undefined || !existsSync(join(config.stateDir, "gateway.secret")))
    throw new FlotillaError(
      "FLOTILLA_E_JUDGE_UNAVAILABLE",
      "the judge has no gateway identity yet: set oversight.model and start the fleet (flotilla up)",
    );
  const target = {
    gatewayUrl: gatewayUrl(config.gateway.listen),
    key: virtualKey(config.stateDir, JUDGE_IDENTITY),
    model,
    timeoutMs: config.oversight.judgeTimeout,
  };
  const outcomes: WindowOutcome[] = [];
  let tokens = 0;
  for (const window of windows) {
    const verdict = await judgeWindow(target, window.agent, window.transcript, ANSWER_TOKENS);
    if (!verdict.ok)
      throw new FlotillaError(
        "FLOTILLA_E_JUDGE_UNAVAILABLE",
        `judge unavailable at window "${window.id}": ${verdict.reason}`,
      );
    tokens += verdict.tokens;
    const found = [...new Set(verdict.findings.map((f) => f.check))];
    outcomes.push({ id: window.id, expected: window.labels, found, errors: verdict.errors });
  }
  const checks = scoreOutcomes(outcomes);
  const errors = outcomes.reduce((n, o) => n + o.errors.length, 0);
  if (input.json) {
    printJson({ model, windows: outcomes.length, tokens, judgeErrors: errors, checks, results: outcomes });
    return 0;
  }
  print(
    `judge ${model}: ${outcomes.length} windows, ${tokens} tokens, ${errors} judge errors (counted as misses)`,
  );
  print(`${"check".padEnd(22)}${"precision".padEnd(11)}${"recall".padEnd(8)}tp  fp  fn`);
  for (const check of JUDGE_CHECK_NAMES) {
    const s = checks[check as JudgeCheck];
    print(
      `${check.padEnd(22)}${ratio(s.precision).padEnd(11)}${ratio(s.recall).padEnd(8)}${String(s.truePositives).padEnd(4)}${String(s.falsePositives).padEnd(4)}${s.falseNegatives}`,
    );
  }
  for (const outcome of outcomes)
    for (const error of outcome.errors) print(`judge error in "${outcome.id}": ${error}`);
  return 0;
}
