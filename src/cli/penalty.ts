/** `flotilla penalty add|list|clear-strict`: the penalty ledger, and taking an agent out of strict mode. */
import type { Penalty } from "../constitution/records.ts";
import { stamp } from "../constitution/brief.ts";
import { penaltyInputOf } from "../constitution/penalty-rules.ts";
import { FlotillaError } from "../errors.ts";
import { changeConstitution, withConstitution } from "./constitution-access.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";
import { join } from "node:path";
import type { FlotillaConfig } from "../config/schema.ts";
import { acceptPenalty } from "../oversight/accept-penalty.ts";
import { openFindingsStore, type StoredFinding } from "../oversight/findings-store.ts";

const USAGE =
  'flotilla penalty add --agent A --what "..." --why "..." --change "..." [--permanent] | add --from-finding ID | list [--agent A] | clear-strict <agent> [-c FILE] [--json]';

function renderPenalties(penalties: Penalty[], strict: Set<string>): string {
  const lines: string[] = [];
  for (const agent of strict)
    lines.push(`${agent} is in STRICT mode (clear it with "flotilla penalty clear-strict ${agent}")`);
  if (penalties.length === 0) return [...lines, "no penalties recorded"].join("\n");
  if (lines.length > 0) lines.push("");
  for (const p of penalties) {
    const tags = [p.source === "self" ? "self-reported" : "", p.permanent ? "permanent" : ""].filter(Boolean);
    lines.push(
      `#${p.id}  ${stamp(p.ts)}  ${p.agent}${tags.length > 0 ? `  (${tags.join(", ")})` : ""}`,
      `  what:   ${p.what}`,
      `  why:    ${p.why}`,
      `  change: ${p.change}`,
    );
  }
  return lines.join("\n");
}

/** Accepts the penalty a finding drafted: through the daemon while it runs, else on the files. */
async function penaltyFromFinding(config: FlotillaConfig, id: string) {
  if (!/^\d+$/.test(id))
    throw new FlotillaError(
      "FLOTILLA_E_USAGE",
      `--from-finding takes a finding id (a number); usage: ${USAGE}`,
    );
  type Accepted = { penalty: Penalty; finding: StoredFinding };
  return changeConstitution<Accepted>(
    config,
    (client) => client.post<Accepted>(`/v1/oversight/findings/${id}/penalty`),
    (constitution) => {
      const store = openFindingsStore(join(config.stateDir, "oversight.db"));
      try {
        return acceptPenalty(store, constitution, id) as Accepted;
      } finally {
        store.close();
      }
    },
  );
}

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

export const penaltyCommand: Command = {
  name: "penalty",
  summary: "Record a penalty (what, why, what changed), list them, or clear an agent's strict mode",
  usage: USAGE,
  options: {
    agent: { type: "string" },
    what: { type: "string" },
    why: { type: "string" },
    change: { type: "string" },
    permanent: { type: "boolean" },
    "from-finding": { type: "string" },
  },
  async run(input) {
    const [action, ...rest] = input.positionals;
    const { config } = loadForCli(input);
    const v = input.values;
    if (action === "add" && v["from-finding"] !== undefined) {
      const { penalty, finding } = await penaltyFromFinding(config, String(v["from-finding"]));
      if (input.json) printJson({ penalty, finding });
      else
        print(
          `recorded penalty #${penalty.id} for ${penalty.agent} from finding #${finding.id} (${finding.check}); it is in the agent's brief from its next start`,
        );
      return 0;
    }
    if (action === "add") {
      const request = penaltyInputOf(v);
      const penalty = await changeConstitution(
        config,
        async (client) => (await client.post<{ penalty: Penalty }>("/v1/penalties", request)).penalty,
        (c) => c.addPenalty(request),
      );
      if (input.json) printJson({ penalty });
      else
        print(
          `recorded penalty #${penalty.id} for ${penalty.agent}; it is in the agent's brief from its next start`,
        );
      return 0;
    }
    if (action === "list") {
      const agent = text(v.agent);
      const { penalties, strict } = withConstitution(config, (c) => ({
        penalties: c.penalties(agent),
        strict: [...c.strictModes().values()].filter((s) => !agent || s.agent === agent),
      }));
      if (input.json) printJson({ penalties, strict });
      else print(renderPenalties(penalties, new Set(strict.map((s) => s.agent))));
      return 0;
    }
    if (action === "clear-strict") {
      const [agent] = rest;
      if (!agent || rest.length > 1)
        throw new FlotillaError("FLOTILLA_E_USAGE", `name one agent; usage: ${USAGE}`);
      if (!config.agents.some((a) => a.name === agent)) {
        const known = config.agents.map((a) => a.name).join(", ") || "none";
        throw new FlotillaError("FLOTILLA_E_UNKNOWN_AGENT", `no agent named "${agent}" (agents: ${known})`);
      }
      const result = await changeConstitution(
        config,
        (client) => client.post<{ agent: string; cleared: boolean }>(`/v1/agents/${agent}/clear-strict`),
        (c) => ({ agent, cleared: c.clearStrict(agent) }),
      );
      if (input.json) printJson({ ...result, strict: false });
      else
        print(
          result.cleared
            ? `${agent} is out of strict mode`
            : `${agent} was not in strict mode; nothing changed`,
        );
      return 0;
    }
    throw new FlotillaError("FLOTILLA_E_USAGE", `say add, list or clear-strict; usage: ${USAGE}`);
  },
};
