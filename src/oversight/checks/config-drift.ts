/**
 * Config drift: a managed file (the config, the constitution, a brief) edited or deleted by hand behind
 * Flotilla's back, from the drift watch's `config.drift` events.
 */
import { secretShape } from "../../config/inline-secrets.ts";
import type { Check } from "../check.ts";
import { recentEvents } from "./ledger-window.ts";

/** Longest changed line quoted (characters). */
const QUOTE = 160;

/** The first changed line of a unified diff, with any word shaped like a key or token masked. */
function firstChange(diff: string): string | undefined {
  const line = diff
    .split("\n")
    .find((l) => (l.startsWith("+") || l.startsWith("-")) && !l.startsWith("+++") && !l.startsWith("---"));
  if (line === undefined) return undefined;
  return line
    .slice(0, QUOTE)
    .split(/(\s+)/)
    .map((word) => (secretShape(word) ? "[secret masked]" : word))
    .join("");
}

function countLines(diff: string, sign: "+" | "-"): number {
  return diff.split("\n").filter((l) => l.startsWith(sign) && !l.startsWith(sign.repeat(3))).length;
}

export const configDriftCheck: Check = {
  name: "config-drift",
  run(context) {
    return recentEvents(context, "config.drift").map((event) => {
      const file = String(event.data.file);
      const diff = typeof event.data.diff === "string" ? event.data.diff : "";
      const deleted = event.data.change === "deleted";
      const quote = firstChange(diff);
      return {
        check: "config-drift",
        severity: "warning",
        agent: null,
        article: null,
        evidence: deleted
          ? `ledger event #${event.id} config.drift: ${file} was deleted by hand`
          : `ledger event #${event.id} config.drift: ${file} was edited by hand (+${countLines(diff, "+")} −${countLines(diff, "-")} lines)${quote ? `; first change: ${quote}` : ""}`,
        suggestion: `Make the change through "flotilla config apply" (which health-checks and can roll back), or restore ${file} from Flotilla's copy.`,
        key: `drift:${event.id}`,
      };
    });
  },
};
