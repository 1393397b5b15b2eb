/**
 * The constitution over one ledger: amendments, penalties, strict mode, the startup brief and the
 * dispatch gate. The daemon builds one (it is the ledger's writer while it runs); the CLI builds one
 * over the ledger file when no daemon runs. Lean on purpose: no schema library, no YAML, no crypto.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AgentConfig, FlotillaConfig, PolicyScope } from "../config/schema.ts";
import { writeManagedFile } from "../config/managed-files.ts";
import { FlotillaError, isFlotillaError } from "../errors.ts";
import type { Store } from "../ledger/store.ts";
import { syncInstructionsFile } from "./instructions-file.ts";
import { type ArticlesFile, readArticles } from "./articles.ts";
import { BRIEF_FILE, HANDOFF_FILE, renderBrief } from "./brief.ts";
import type { PenaltyInput } from "./penalty-rules.ts";
import { type DispatchPlan, planDispatch } from "./policies.ts";
import {
  type AmendmentInput,
  clearStrict,
  listAmendments,
  listPenalties,
  openIncidents,
  recentIncidents,
  recordAmendment,
  recordPenalty,
  strictModes,
} from "./records.ts";

/** How far back the coordinator's brief lists incidents the watchdog resolved. */
const RECENT_INCIDENTS_MS = 24 * 3_600_000;

/** The parts of the config the constitution reads. */
export type ConstitutionView = Pick<FlotillaConfig, "agents" | "constitution" | "stateDir">;

export interface ConstitutionOptions {
  /** The config now: a config apply may replace it while the daemon runs, so it is read on every call. */
  config: () => ConstitutionView;
  store: Store;
}

export function createConstitution(options: ConstitutionOptions) {
  const { store } = options;
  const agentNames = () => options.config().agents.map((a) => a.name);

  function agentConfig(name: string): AgentConfig {
    const agent = options.config().agents.find((a) => a.name === name);
    if (!agent) {
      throw new FlotillaError(
        "FLOTILLA_E_UNKNOWN_AGENT",
        `no agent named "${name}" (agents: ${agentNames().join(", ") || "none"})`,
        { status: 404 },
      );
    }
    return agent;
  }

  function articles(): ArticlesFile {
    return readArticles(options.config().constitution.articles);
  }

  return {
    /** The constitution file, parsed now (it may have been edited since the last call). */
    articles,
    amendments: () => listAmendments(store),
    /** Checks the article exists, then records the amendment; nothing changes on error. */
    amend: (input: AmendmentInput) => recordAmendment(store, articles().articles, input),
    penalties: (agent?: string) => {
      if (agent) agentConfig(agent);
      return listPenalties(store, agent);
    },
    /** An operator's penalty. */
    addPenalty: (input: Partial<PenaltyInput>) =>
      recordPenalty(store, input, { knownAgents: agentNames(), source: "operator" }),
    /** An agent's report of its own violation: a penalty, and strict mode until an operator clears it. */
    reportViolation: (agent: string, input: Partial<Omit<PenaltyInput, "agent">>) =>
      recordPenalty(store, { ...input, agent }, { knownAgents: agentNames(), source: "self" }),
    /** Agents in strict mode now, by name. */
    strictModes: () => strictModes(store),
    /** Clears an agent's strict mode; false when it was not in strict mode. */
    clearStrict: (agent: string) => {
      agentConfig(agent);
      return clearStrict(store, agent);
    },
    /**
     * Writes FLOTILLA.md into the workspace of the agent (named, or the spec being started) and the
     * pointer block in the instructions file of its kind (CLAUDE.md or AGENTS.md). Returns the brief's path, and a warning when the constitution file could not be parsed (the
     * brief is written anyway, saying so).
     */
    writeBrief(which: string | AgentConfig, apiUrl?: string): { path: string; warning?: string } {
      const config = options.config();
      // The supervisor passes the spec it is starting: during an apply it is newer than the config here.
      const agent = typeof which === "string" ? agentConfig(which) : which;
      const name = agent.name;
      const path = join(agent.workspace, BRIEF_FILE);
      let constitution: ArticlesFile;
      let warning: string | undefined;
      try {
        constitution = articles();
      } catch (err) {
        // A broken file must not leave an old brief in place: the agent is told, and so is the ledger.
        if (!isFlotillaError(err)) throw err;
        constitution = { path: config.constitution.articles, missing: false, articles: [] };
        warning = err.message;
      }
      const text = renderBrief({
        agent: name,
        constitution,
        ...(warning ? { constitutionError: warning } : {}),
        amendments: listAmendments(store),
        penalties: listPenalties(store, name),
        penaltyCap: config.constitution.penaltyCap,
        strict: strictModes(store).get(name),
        // The coordinator reads every open incident of the fleet, and what the watchdog resolved lately.
        incidents: openIncidents(store, agent.role === "coordinator" ? undefined : name),
        ...(agent.role === "coordinator"
          ? { recentIncidents: recentIncidents(store, Date.now() - RECENT_INCIDENTS_MS) }
          : {}),
        handoffExists: existsSync(join(agent.workspace, HANDOFF_FILE)),
        ...(apiUrl ? { apiUrl } : {}),
      });
      writeManagedFile(config.stateDir, path, text);
      syncInstructionsFile(agent);
      return warning ? { path, warning } : { path };
    },
    /**
     * The dispatch gate the dispatcher calls before it sends work: the exact text to send (policies
     * before the prompt) and whether proof is required (strict mode). Throws
     * FLOTILLA_E_CONSTITUTION_REQUIRED when constitution.required is set and there are no articles.
     */
    planDispatch(name: string, scope: PolicyScope, prompt: string): DispatchPlan {
      agentConfig(name);
      return planDispatch(
        {
          constitution: options.config().constitution,
          articles: articles(),
          agent: name,
          strict: strictModes(store).has(name),
        },
        scope,
        prompt,
      );
    },
  };
}

export type Constitution = ReturnType<typeof createConstitution>;
