/**
 * The one path from a diagnosis's decisions to processes: only the allowed ones run, in order, each as
 * commandFor spells it; a refused decision never reaches spawn. The watchdog calls this and nothing else.
 */
import type { ActionRun, PolicyDecision } from "../types.ts";
import { commandFor, type PolicyContext } from "./fix-policy.ts";
import { type RunOptions, runAction } from "./run-action.ts";

/** Runs the allowed decisions one after another (a failed one does not stop the next); returns their runs. */
export async function runAllowed(
  decisions: readonly PolicyDecision[],
  ctx: PolicyContext,
  options: RunOptions,
): Promise<ActionRun[]> {
  const runs: ActionRun[] = [];
  for (const decision of decisions)
    if (decision.allowed) runs.push(await runAction(commandFor(decision, ctx), "model", options));
  return runs;
}
