/**
 * `flotilla oversight run|restart|findings|ack|eval`: run the pass now, restart a stuck pass, list findings
 * newest first, acknowledge one, or score the judge against a labelled set (src/cli/oversight-eval.ts).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { connectDaemon } from "../api/client.ts";
import { readDaemonInfo } from "../api/daemon-files.ts";
import type { FlotillaConfig } from "../config/schema.ts";
import { FlotillaError } from "../errors.ts";
import { FINDING_STATES } from "../oversight/finding.ts";
import { openFindingsStore, type StoredFinding } from "../oversight/findings-store.ts";
import type { RunResult } from "../oversight/runner.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";
import { OVERSIGHT_EVAL_OPTIONS, oversightEval } from "./oversight-eval.ts";
import { renderFinding, renderFindings, renderRun } from "./oversight-render.ts";

const USAGE =
  "flotilla oversight run | restart | findings [--state open|acknowledged|resolved|all] [--agent NAME] | ack ID | eval FILE [--model NAME] [-c FILE] [--json]";

async function readFindings(config: FlotillaConfig, state: string, agent: string | undefined) {
  if (readDaemonInfo(config.stateDir)?.api) {
    const params = new URLSearchParams({ state });
    if (agent) params.set("agent", agent);
    return (
      await connectDaemon(config.stateDir).get<{ findings: StoredFinding[] }>(
        `/v1/oversight/findings?${params}`,
      )
    ).findings;
  }
  // No daemon: read the file (WAL lets a reader run beside a writer).
  const file = join(config.stateDir, "oversight.db");
  if (!existsSync(file)) return [];
  const store = openFindingsStore(file);
  try {
    return store.list({
      ...(state === "all" ? {} : { state: state as StoredFinding["state"] }),
      ...(agent ? { agent } : {}),
    });
  } finally {
    store.close();
  }
}

export const oversightCommand: Command = {
  name: "oversight",
  summary: "Run or restart the oversight pass, list its findings, acknowledge one, or evaluate the judge",
  usage: USAGE,
  options: { state: { type: "string" }, agent: { type: "string" }, ...OVERSIGHT_EVAL_OPTIONS },
  async run(input) {
    const [action, ...rest] = input.positionals;
    if (action === "eval") return oversightEval({ ...input, positionals: rest });
    const { config } = loadForCli(input);
    if (action === "run") {
      if (rest.length > 0)
        throw new FlotillaError("FLOTILLA_E_USAGE", `run takes no arguments; usage: ${USAGE}`);
      const result = await connectDaemon(config.stateDir).post<RunResult>("/v1/oversight/run");
      if (input.json) printJson(result);
      else print(renderRun(result.run, result.findings, result.durationMs));
      return result.run.outcome === "ok" ? 0 : 1;
    }
    if (action === "restart") {
      if (rest.length > 0)
        throw new FlotillaError("FLOTILLA_E_USAGE", `restart takes no arguments; usage: ${USAGE}`);
      const result = await connectDaemon(config.stateDir).post<{ restarted: true; runId?: number }>(
        "/v1/oversight/restart",
      );
      if (input.json) printJson(result);
      else
        print(
          result.runId === undefined
            ? "oversight restarted (it is disabled, so no run started)"
            : `oversight restarted; run #${result.runId} started`,
        );
      return 0;
    }
    if (action === "findings") {
      const state = typeof input.values.state === "string" ? input.values.state : "all";
      if (state !== "all" && !(FINDING_STATES as readonly string[]).includes(state))
        throw new FlotillaError(
          "FLOTILLA_E_USAGE",
          `--state must be open, acknowledged, resolved or all, not "${state}"; usage: ${USAGE}`,
        );
      const agent = typeof input.values.agent === "string" ? input.values.agent : undefined;
      if (agent && !config.agents.some((a) => a.name === agent)) {
        const known = config.agents.map((a) => a.name).join(", ") || "none";
        throw new FlotillaError(
          "FLOTILLA_E_UNKNOWN_AGENT",
          `--agent: no agent named "${agent}" (agents: ${known})`,
        );
      }
      const findings = await readFindings(config, state, agent);
      if (input.json) printJson({ findings });
      else print(renderFindings(findings));
      return 0;
    }
    if (action === "ack") {
      const [id] = rest;
      if (!id || rest.length > 1 || !/^\d+$/.test(id))
        throw new FlotillaError("FLOTILLA_E_USAGE", `name one finding id (a number); usage: ${USAGE}`);
      const { finding } = await connectDaemon(config.stateDir).post<{ finding: StoredFinding }>(
        `/v1/oversight/findings/${id}/ack`,
      );
      if (input.json) printJson({ finding });
      else
        print(
          finding.state === "acknowledged"
            ? `acknowledged finding #${id}\n${renderFinding(finding)}`
            : `finding #${id} is ${finding.state}; nothing changed`,
        );
      return 0;
    }
    throw new FlotillaError("FLOTILLA_E_USAGE", `say run, restart, findings, ack or eval; usage: ${USAGE}`);
  },
};
