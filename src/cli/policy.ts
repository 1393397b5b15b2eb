/** `flotilla policy preview <agent> "<prompt>" [--scope task|steer|parallel]`: the exact text a dispatch would send. */
import { POLICY_SCOPES, type PolicyScope } from "../config/schema.ts";
import { FlotillaError } from "../errors.ts";
import { withConstitution } from "./constitution-access.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";

const USAGE = 'flotilla policy preview <agent> "<prompt>" [--scope task|steer|parallel] [-c FILE] [--json]';

function scopeOf(value: unknown): PolicyScope {
  const scope = value === undefined ? "task" : value;
  if (typeof scope === "string" && (POLICY_SCOPES as readonly string[]).includes(scope))
    return scope as PolicyScope;
  throw new FlotillaError(
    "FLOTILLA_E_USAGE",
    `--scope must be one of ${POLICY_SCOPES.join(", ")}; usage: ${USAGE}`,
  );
}

export const policyCommand: Command = {
  name: "policy",
  summary: "Preview the exact text a dispatch sends to an agent (policies before the prompt)",
  usage: USAGE,
  options: { scope: { type: "string" } },
  async run(input) {
    const [action, agent, prompt, ...extra] = input.positionals;
    if (action !== "preview" || !agent || prompt === undefined || extra.length > 0)
      throw new FlotillaError("FLOTILLA_E_USAGE", `name an agent and quote the prompt; usage: ${USAGE}`);
    const scope = scopeOf(input.values.scope);
    const { config } = loadForCli(input);
    const plan = withConstitution(config, (c) => c.planDispatch(agent, scope, prompt));
    if (input.json) printJson({ agent, scope, ...plan });
    else print(plan.text);
    return 0;
  },
};
