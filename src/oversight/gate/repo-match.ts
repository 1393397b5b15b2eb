/** Which repos[] entry a git remote pushes to: the same local repository, or the GitHub repository its CI reads. */
import { realpathSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RepoConfig } from "../../config/schema.ts";

const real = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
};

/** OWNER/NAME of a GitHub remote URL (https, ssh or scp-like), lower-cased, or null. */
function githubName(url: string): string | null {
  const match = /github\.com[/:]([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/i.exec(url);
  return match ? `${match[1]}/${match[2]}`.toLowerCase() : null;
}

/** The local path a remote URL names, or null when it is not local. `cwd` resolves a relative path. */
function localPath(url: string, cwd: string): string | null {
  if (url.startsWith("file://")) return real(fileURLToPath(url));
  if (/^[\w+.-]+:\/\//.test(url) || /^[\w.-]+@[\w.-]+:/.test(url)) return null;
  return real(isAbsolute(url) ? url : resolve(cwd, url));
}

/** The index of the repository `url` pushes to, or -1. */
export function matchRepo(url: string, repos: readonly RepoConfig[], cwd: string): number {
  const local = localPath(url, cwd);
  const github = githubName(url);
  return repos.findIndex(
    (repo) =>
      (local !== null && real(repo.path) === local) ||
      (github !== null && repo.ci?.kind === "github" && repo.ci.repo?.toLowerCase() === github),
  );
}
