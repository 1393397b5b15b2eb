/**
 * Git through `git` child processes: argv arrays (never a shell), a timeout on every call, and none of the
 * GIT_* variables of a hook's environment, so a call about one repository never acts on another.
 */
import { execFile } from "node:child_process";
import { realpathSync } from "node:fs";

/** Time limits (milliseconds) and output cap of one git call. */
export const GIT_DEFAULTS = {
  /** One git command. */
  timeoutMs: 30_000,
  /** Output of one git command (bytes); a log of a bounded window stays far below it. */
  maxBuffer: 64 * 1024 * 1024,
} as const;

/** The tree of an empty commit: what a root commit is compared with. */
export const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/** The environment for git and for commands run in a checkout: the caller's, less the hook's GIT_* variables. */
export function cleanEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!name.startsWith("GIT_")) clean[name] = value;
  return { ...clean, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };
}

/** A git command that failed, with what git said. */
export class GitError extends Error {
  readonly stderr: string;
  constructor(message: string, stderr: string) {
    super(message);
    this.name = "GitError";
    this.stderr = stderr;
  }
}

/** Runs `git ARGS` in `cwd` and resolves with its stdout. */
export function git(
  cwd: string,
  args: string[],
  timeoutMs: number = GIT_DEFAULTS.timeoutMs,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      { cwd, env: cleanEnv(), timeout: timeoutMs, maxBuffer: GIT_DEFAULTS.maxBuffer, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const why = err.killed
          ? `timed out after ${timeoutMs} ms`
          : stderr.trim().split("\n")[0] || err.message;
        reject(new GitError(`git ${args[0]} in ${cwd}: ${why}`, stderr));
      },
    );
  });
}

export type RepoShape =
  { kind: "worktree" | "bare"; gitDir: string } | { kind: "missing" | "not-git"; why: string };

/** Whether `path` is a work tree's top, a bare repository, or neither (a folder inside another repository is neither). */
export async function repoShape(path: string): Promise<RepoShape> {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return { kind: "missing", why: `${path} does not exist` };
  }
  let out: string;
  try {
    out = await git(real, ["rev-parse", "--is-bare-repository", "--absolute-git-dir"]);
  } catch {
    return { kind: "not-git", why: `${path} is not a git repository` };
  }
  const [bare, gitDir = ""] = out.trim().split("\n");
  if (bare === "true") {
    return realpathSync(gitDir) === real
      ? { kind: "bare", gitDir }
      : { kind: "not-git", why: `${path} is inside the repository ${gitDir}, not one itself` };
  }
  const top = (await git(real, ["rev-parse", "--show-toplevel"])).trim();
  return realpathSync(top) === real
    ? { kind: "worktree", gitDir }
    : { kind: "not-git", why: `${path} is inside the repository ${top}, not the top of one` };
}

export interface Commit {
  sha: string;
  /** Committer time, ms since the epoch. */
  time: number;
  subject: string;
  author: string;
  /** The whole message (subject, body and trailers). */
  message: string;
  /** Lines changed per file against the first parent (when asked for; merges show none). */
  files: NumStat;
}

const FIELD = "\x1f";
const RECORD = "\x1e";
const LOG_FORMAT = `--format=${RECORD}%H${FIELD}%ct${FIELD}%s${FIELD}%an${FIELD}%B${FIELD}`;

function parseCommits(out: string): Commit[] {
  return out
    .split(RECORD)
    .filter((record) => record.includes(FIELD))
    .map((record) => {
      const [sha = "", time = "0", subject = "", author = "", message = "", stats = ""] = record.split(FIELD);
      return {
        sha,
        time: Number(time) * 1000,
        subject,
        author,
        message: message.trimEnd(),
        files: parseNumstat(stats),
      };
    });
}

export interface LogOptions {
  /** Include per-file line counts. */
  numstat?: boolean;
  /** With numstat: leave out whitespace and blank-line changes. */
  ignoreSpace?: boolean;
  /** Only commits after this time (ms since the epoch). */
  sinceMs?: number;
  /** At most this many, newest first. */
  max?: number;
}

function logArgs(options: LogOptions): string[] {
  return [
    "log",
    LOG_FORMAT,
    `--max-count=${options.max ?? 10_000}`,
    ...(options.sinceMs === undefined ? [] : [`--since=@${Math.floor(options.sinceMs / 1000)}`]),
    ...(options.numstat ? ["--numstat", "--no-renames"] : []),
    ...(options.numstat && options.ignoreSpace ? ["--ignore-all-space", "--ignore-blank-lines"] : []),
  ];
}

/** Whether `ref` names a commit in the repository. */
export async function hasCommit(path: string, ref: string): Promise<boolean> {
  try {
    await git(path, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/** Commits reachable from `ref`, newest first; [] when the ref does not exist. */
export async function commitsOf(path: string, ref: string, options: LogOptions = {}): Promise<Commit[]> {
  if (!(await hasCommit(path, ref))) return [];
  return parseCommits(await git(path, [...logArgs(options), ref, "--"]));
}

/** The commits of a push: reachable from `tip` but not from any of `exclude`, newest first. */
export async function commitsBetween(
  path: string,
  tip: string,
  exclude: string[],
  options: LogOptions = {},
): Promise<Commit[]> {
  return parseCommits(await git(path, [...logArgs(options), tip, ...exclude.map((ref) => `^${ref}`), "--"]));
}

/** Lines added and deleted per file. */
export type NumStat = Map<string, { added: number; deleted: number }>;

function parseNumstat(out: string): NumStat {
  const stats: NumStat = new Map();
  for (const line of out.split("\n")) {
    const [added, deleted, ...rest] = line.trim().split("\t");
    if (rest.length === 0) continue;
    // Binary files show "-": count them as changed.
    stats.set(rest.join("\t"), {
      added: added === "-" ? 1 : Number(added),
      deleted: deleted === "-" ? 1 : Number(deleted),
    });
  }
  return stats;
}

/** Per-file line counts between two commits; `ignoreSpace` leaves out whitespace and blank-line changes. */
export async function numstat(
  path: string,
  from: string,
  to: string,
  ignoreSpace: boolean,
): Promise<NumStat> {
  const flags = ignoreSpace ? ["--ignore-all-space", "--ignore-blank-lines"] : [];
  return parseNumstat(await git(path, ["diff", "--numstat", "--no-renames", ...flags, from, to, "--"]));
}

/** The commit a commit is compared with: its first parent, or the empty tree for a root commit. */
export async function parentOf(path: string, sha: string): Promise<string> {
  try {
    return (await git(path, ["rev-parse", "--verify", "--quiet", `${sha}^1`])).trim();
  } catch {
    return EMPTY_TREE;
  }
}
