/**
 * A repository's CI source as configured (repos[].ci): GitHub or a command, with each final result
 * (success, failure) cached per commit in the state dir, so a commit is tested or asked about once.
 */
import { hash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RepoConfig } from "../../config/schema.ts";
import { resolveSecret } from "../../config/secrets.ts";
import { type CiResult, isFinal } from "./ci-result.ts";
import { commandCi } from "./command.ts";
import { githubCi } from "./github.ts";

export interface CiSourceDeps {
  /** The daemon's state dir; results live in <stateDir>/oversight/ci/. */
  stateDir: string;
  /** Values of the { env } secret references, as the daemon got them on its stdin. */
  secrets: Record<string, string>;
}

export interface CiSource {
  /** What CI says about `sha`; never throws for the source's own failures (they are state "error"). */
  status(sha: string): Promise<CiResult>;
}

/** The CI source of `repo` (index `index` in repos[]), or null when it has none. */
export function ciSourceOf(repo: RepoConfig, index: number, deps: CiSourceDeps): CiSource | null {
  const ci = repo.ci;
  if (!ci) return null;
  const dir = join(deps.stateDir, "oversight", "ci");
  const scope = hash(
    "sha256",
    `${repo.path}\n${ci.kind}\n${ci.repo ?? ""}\n${(ci.command ?? []).join("\0")}`,
  ).slice(0, 16);
  const cacheFile = (sha: string) => join(dir, `${scope}-${sha}.json`);

  async function ask(sha: string): Promise<CiResult> {
    if (ci?.kind === "command") return commandCi(repo.path, sha, ci.command ?? [], ci.timeout);
    let token: string | undefined;
    try {
      token = ci?.token ? resolveSecret(ci.token, `repos.${index}.ci.token`, deps.secrets) : undefined;
    } catch (err) {
      return { state: "error", detail: (err as Error).message };
    }
    return githubCi({ apiUrl: ci?.apiUrl ?? "", repo: ci?.repo ?? "", token }, sha);
  }

  return {
    async status(sha) {
      if (!/^[0-9a-f]{40,64}$/.test(sha)) return { state: "error", detail: `"${sha}" is not a commit hash` };
      try {
        return JSON.parse(readFileSync(cacheFile(sha), "utf8")) as CiResult;
      } catch {
        // not cached yet
      }
      const result = await ask(sha);
      if (isFinal(result)) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const temp = `${cacheFile(sha)}.${process.pid}.tmp`;
        writeFileSync(temp, JSON.stringify(result));
        renameSync(temp, cacheFile(sha));
      }
      return result;
    },
  };
}
