/**
 * What a push carries: the ref updates git hands the pre-push hook on stdin, or (for `flotilla gate check`
 * on its own) the current branch against its remote; and the commits each update adds.
 */
import { type Commit, commitsBetween, git, hasCommit, type NumStat, numstat, parentOf } from "../git.ts";

const ZERO = /^0+$/;

export interface RefUpdate {
  localSha: string;
  /** The branch or tag pushed to, such as refs/heads/main. */
  remoteRef: string;
  /** What the remote has there now, or null for a new ref. */
  remoteSha: string | null;
}

/** Parses pre-push's stdin: `<local ref> <local sha> <remote ref> <remote sha>` per line; deletions are left out. */
export function parsePrePush(stdin: string): RefUpdate[] {
  const updates: RefUpdate[] = [];
  for (const line of stdin.split("\n")) {
    const [, localSha, remoteRef, remoteSha] = line.trim().split(/\s+/);
    if (!localSha || !remoteRef || !remoteSha || ZERO.test(localSha)) continue;
    updates.push({ localSha, remoteRef, remoteSha: ZERO.test(remoteSha) ? null : remoteSha });
  }
  return updates;
}

/** The push of the current branch to the same branch of `remote`, as `git push REMOTE HEAD` would make it. */
export async function currentBranchPush(cwd: string, remote: string): Promise<RefUpdate[]> {
  const branch = (await git(cwd, ["symbolic-ref", "--quiet", "--short", "HEAD"]).catch(() => "")).trim();
  if (!branch) return [];
  const localSha = (await git(cwd, ["rev-parse", "HEAD"])).trim();
  const tracking = `refs/remotes/${remote}/${branch}`;
  const remoteSha = (await hasCommit(cwd, tracking))
    ? (await git(cwd, ["rev-parse", tracking])).trim()
    : null;
  return [{ localSha, remoteRef: `refs/heads/${branch}`, remoteSha }];
}

export interface PushContents {
  /** The new commits, newest first, with per-file line counts. */
  commits: Commit[];
  /** The whole push's diff, plain and ignoring whitespace and blank lines. */
  plain: NumStat;
  ignoringSpace: NumStat;
}

/** The commits `update` adds to the remote: not reachable from what the remote has (as far as this clone knows). */
export async function pushContents(cwd: string, remote: string, update: RefUpdate): Promise<PushContents> {
  const known = (await git(cwd, ["for-each-ref", "--format=%(objectname)", `refs/remotes/${remote}/`]))
    .split("\n")
    .filter(Boolean);
  const exclude = [...known];
  if (update.remoteSha && (await hasCommit(cwd, update.remoteSha))) exclude.push(update.remoteSha);
  const commits = await commitsBetween(cwd, update.localSha, exclude, { numstat: true });
  const oldest = commits.at(-1);
  if (!oldest) return { commits, plain: new Map(), ignoringSpace: new Map() };
  const base = await parentOf(cwd, oldest.sha);
  return {
    commits,
    plain: await numstat(cwd, base, update.localSha, false),
    ignoringSpace: await numstat(cwd, base, update.localSha, true),
  };
}
