/**
 * push-without-ci: every commit on a protected branch whose CI is not green (failed, pending or
 * unreported past the grace), every such commit without a gate record (pushed with --no-verify), and
 * every emergency override of the gate. A repository that is missing or not git, or whose CI source
 * cannot be asked, is a finding too, never a crash.
 */
import type { RepoConfig } from "../../config/schema.ts";
import type { Check, CheckContext } from "../check.ts";
import { short } from "../change-shape.ts";
import { type CiSourceDeps, ciSourceOf } from "../ci/ci-source.ts";
import type { FindingDraft } from "../finding.ts";
import { type GateLedger, readGateLedger } from "../gate-records.ts";
import { repoShape } from "../git.ts";
import { type BranchCommit, protectedCommits, windowStart } from "../repo-scan.ts";

export const PUSH_WITHOUT_CI = "push-without-ci";

/** CI asked about at most this many new commits per repository per run (the rest wait for the next run). */
const MAX_CI_ASKS = 50;

const draft = (fields: Omit<FindingDraft, "check" | "article">): FindingDraft => ({
  check: PUSH_WITHOUT_CI,
  article: null,
  ...fields,
});

const quote = (commit: BranchCommit, repo: RepoConfig) =>
  `commit ${short(commit.sha)} "${commit.subject}" on ${commit.branch} of ${repo.path}`;

async function ciFindings(
  repo: RepoConfig,
  index: number,
  commits: BranchCommit[],
  context: CheckContext,
  deps: CiSourceDeps,
): Promise<FindingDraft[]> {
  const source = ciSourceOf(repo, index, deps);
  if (!source)
    return [
      draft({
        severity: "warning",
        agent: null,
        evidence: `${repo.path} has no CI source (repos.${index}.ci), so no commit on ${repo.branches.join(", ")} can be green`,
        suggestion: `configure repos.${index}.ci (kind github or command); see docs/oversight.md`,
        key: `no-ci:${repo.path}`,
      }),
    ];
  const findings: FindingDraft[] = [];
  const grace = repo.ci?.pendingGrace ?? 0;
  for (const commit of commits.slice(0, MAX_CI_ASKS)) {
    const result = await source.status(commit.sha);
    if (result.state === "error")
      return [
        ...findings,
        draft({
          severity: "warning",
          agent: null,
          evidence: `the CI source of ${repo.path} could not be asked about ${short(commit.sha)}: ${result.detail}`,
          suggestion: `check repos.${index}.ci (the URL, the token, or the command) and that it is reachable`,
          key: `ci-error:${repo.path}`,
        }),
      ];
    if (result.state === "success") continue;
    if (result.state !== "failure" && context.now - commit.time < grace) continue;
    const what = result.state === "none" ? "has no CI record" : `CI is ${result.state}`;
    findings.push(
      draft({
        severity: result.state === "failure" ? "critical" : "warning",
        agent: null,
        evidence: `${quote(commit, repo)} ${what}: ${result.detail}`,
        suggestion:
          result.state === "failure"
            ? "fix or revert the commit, and run the tests before pushing to a protected branch"
            : "make CI run on this commit (or find why it has not reported), and push to protected branches only once it is green",
        key: `ci:${commit.sha}`,
      }),
    );
  }
  return findings;
}

function gateFindings(repo: RepoConfig, commits: BranchCommit[], gate: GateLedger): FindingDraft[] {
  const since = gate.since(repo.path);
  if (since === null) return [];
  return commits
    .filter((commit) => commit.time >= since - 1000 && !gate.recorded(repo.path, commit.sha))
    .map((commit) =>
      draft({
        severity: "warning",
        agent: null,
        evidence: `${quote(commit, repo)} has no gate record: it was pushed past the gate (git push --no-verify, or a clone without the hooks)`,
        suggestion: "push through the gate (flotilla gate install in every clone) and never with --no-verify",
        key: `no-gate:${commit.sha}`,
      }),
    );
}

/** The push-without-ci check; it reads the state dir (CI cache) and the daemon's secrets (GitHub tokens). */
export function createPushWithoutCiCheck(deps: CiSourceDeps): Check {
  return {
    name: PUSH_WITHOUT_CI,
    async run(context) {
      const findings: FindingDraft[] = [];
      const gate = readGateLedger(context.ledger);
      const since = windowStart(context);
      for (const [index, repo] of context.config.repos.entries()) {
        const shape = await repoShape(repo.path);
        if (shape.kind === "missing" || shape.kind === "not-git") {
          findings.push(
            draft({
              severity: "warning",
              agent: null,
              evidence: `repos.${index}.path: ${shape.why}`,
              suggestion: `fix repos.${index}.path in the config, or create the repository there`,
              key: `repo:${repo.path}`,
            }),
          );
          continue;
        }
        const commits = await protectedCommits(repo, since);
        findings.push(...(await ciFindings(repo, index, commits, context, deps)));
        findings.push(...gateFindings(repo, commits, gate));
      }
      for (const event of gate.emergencies(context.sinceId)) {
        const shas = Array.isArray(event.data.shas) ? event.data.shas.map((s) => short(String(s))) : [];
        findings.push(
          draft({
            severity: "warning",
            agent: event.agent,
            evidence: `ledger event ${event.id}: ${event.agent ?? "the operator"} pushed ${shas.join(", ") || "commits"} to ${String(event.data.repo ?? "a repository")} past the gate with --emergency "${String(event.data.reason ?? "")}" (what the gate saw: ${String(event.data.refusal ?? "nothing recorded")})`,
            suggestion:
              "review the pushed commits now; an emergency override is a violation until someone has",
            key: `emergency:${event.id}`,
          }),
        );
      }
      return findings;
    },
  };
}
