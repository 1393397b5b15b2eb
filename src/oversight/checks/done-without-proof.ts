/**
 * "Done without proof", settled by code, not by a model: a claim of completion in an agent's new
 * transcript with no commit in its workspace since its previous claim (or its start), no path named in
 * the claim that exists and changed since then, and no green CI run, is a finding that quotes the claim.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { AgentConfig } from "../../config/schema.ts";
import type { Check } from "../check.ts";
import type { FindingDraft } from "../finding.ts";
import { transcriptReader } from "../transcripts/new-transcript.ts";
import { completionClaims, namedPaths } from "./completion-claims.ts";

export const DONE_WITHOUT_PROOF = "done-without-proof";
/** How far back the first claim of an agent with no known start looks for proof. */
const DEFAULT_LOOKBACK_MS = 24 * 3_600_000;
const GIT_TIMEOUT_MS = 5_000;

/** Whether a green CI run exists for the agent's work since `since` (ms); another module supplies it. */
export type CiGreenLookup = (agent: AgentConfig, since: number) => Promise<boolean>;

/** The newest commit in `dir` (any branch) made at or after `since`: its hash, or undefined (none, or not a repo). */
export function commitSince(dir: string, since: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      "git",
      ["-C", dir, "log", "--all", "-1", "--format=%H", `--since=@${Math.floor(since / 1000)}`],
      { timeout: GIT_TIMEOUT_MS },
      (err, stdout) => resolve(err ? undefined : stdout.trim() || undefined),
    );
  });
}

/** A path the claim names that exists (relative to the workspace) and changed at or after `since`. */
export function changedArtifact(claim: string, workspace: string, since: number): string | undefined {
  for (const path of namedPaths(claim)) {
    const full = isAbsolute(path) ? path : join(workspace, path);
    try {
      if (statSync(full).mtimeMs >= since) return path;
    } catch {
      // Named but absent: no proof.
    }
  }
  return undefined;
}

export interface DoneWithoutProofOptions {
  /** The CI lookup (the push-without-CI check's); without one, CI proves nothing. */
  ciGreen?: CiGreenLookup;
}

export function createDoneWithoutProofCheck(options: DoneWithoutProofOptions = {}): Check {
  const ciGreen = options.ciGreen ?? (async () => false);
  return {
    name: DONE_WITHOUT_PROOF,
    async run(context) {
      const { config, now } = context;
      const reader = transcriptReader(config, DONE_WITHOUT_PROOF);
      const started = new Map(
        context
          .status()
          .map((row) => [row.name, row.uptimeSec === null ? undefined : now - row.uptimeSec * 1000]),
      );
      const drafts: FindingDraft[] = [];
      const handled: string[] = [];
      for (const agent of config.agents) {
        const transcript = reader.read(agent, config.oversight.transcriptReadLimit);
        if (!transcript.hasSource) continue;
        handled.push(agent.name);
        for (const problem of transcript.problems)
          drafts.push({
            check: DONE_WITHOUT_PROOF,
            severity: "info",
            agent: agent.name,
            article: null,
            evidence: problem,
            suggestion: "Fix the transcript source so claims of completion can be checked",
            key: `transcript:${createHash("sha256").update(problem).digest("hex").slice(0, 16)}`,
          });
        const claims = completionClaims(transcript.text);
        if (claims.length === 0) continue;
        const previous = reader.marks[agent.name];
        const since =
          previous?.at ?? started.get(agent.name) ?? context.lastRunAt ?? now - DEFAULT_LOOKBACK_MS;
        const commit = await commitSince(agent.workspace, since);
        reader.marks[agent.name] = { at: now, ...(commit ? { commit } : {}) };
        // A commit proves the claims after it once: the next claim needs a newer one.
        if (commit !== undefined && commit !== previous?.commit) continue;
        if (await ciGreen(agent, since)) continue;
        for (const claim of claims) {
          if (changedArtifact(claim, agent.workspace, since) !== undefined) continue;
          drafts.push({
            check: DONE_WITHOUT_PROOF,
            severity: "warning",
            agent: agent.name,
            article: null,
            evidence: `${JSON.stringify(claim)}: no commit in ${agent.workspace} since ${new Date(since).toISOString()}, no changed file named, no green CI run`,
            suggestion:
              "Back the claim with proof (commit the work, name the file it produced, or point to a green CI run), or withdraw it",
            key: createHash("sha256").update(claim).digest("hex").slice(0, 16),
          });
        }
      }
      reader.commit(handled);
      return drafts;
    },
  };
}

export const doneWithoutProofCheck: Check = createDoneWithoutProofCheck();
