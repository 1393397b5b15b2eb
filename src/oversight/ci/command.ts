/**
 * A commit's CI by running a command: the configured argv in a temporary worktree of that commit (never
 * a shell), killed at its timeout. The worktree is removed afterwards, whatever happened.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv, git } from "../git.ts";
import type { CiResult } from "./ci-result.ts";

/** Bytes of a failed run's output kept for evidence (its end, where the failure usually is). */
const TAIL_BYTES = 600;

export interface CommandRun {
  code: number | null;
  timedOut: boolean;
  /** The end of stdout and stderr together. */
  tail: string;
}

/** Runs `argv` in a temporary worktree of `sha` in the repository at `repoPath` (a work tree or a bare repository). */
export async function runInCheckout(
  repoPath: string,
  sha: string,
  argv: string[],
  timeoutMs: number,
): Promise<CommandRun> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-ci-"));
  const checkout = join(dir, "tree");
  try {
    await git(repoPath, ["worktree", "add", "--detach", "--quiet", checkout, sha]);
    const [file = "", ...args] = argv;
    return await new Promise<CommandRun>((resolve) => {
      execFile(
        file,
        args,
        {
          cwd: checkout,
          env: cleanEnv(),
          timeout: timeoutMs,
          killSignal: "SIGKILL",
          maxBuffer: 16 * 1024 * 1024,
        },
        (err, stdout, stderr) => {
          const tail = `${stdout}${stderr}`.slice(-TAIL_BYTES).trim();
          if (!err) return resolve({ code: 0, timedOut: false, tail });
          const timedOut = err.killed === true;
          const code = typeof err.code === "number" ? err.code : null;
          // A command that ran and failed is described by its own output; Node's message ("Command
          // failed: ARGV" plus stderr again) only says why one that did not run or was killed stopped.
          resolve({ code, timedOut, tail: tail || (code === null ? err.message.trim() : "") });
        },
      );
    });
  } finally {
    await git(repoPath, ["worktree", "remove", "--force", checkout]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await git(repoPath, ["worktree", "prune"]).catch(() => undefined);
  }
}

/** The commit's CI by the command: exit 0 is success, anything else (a timeout too) is failure. */
export async function commandCi(
  repoPath: string,
  sha: string,
  argv: string[],
  timeoutMs: number,
): Promise<CiResult> {
  let run: CommandRun;
  try {
    run = await runInCheckout(repoPath, sha, argv, timeoutMs);
  } catch (err) {
    return { state: "error", detail: `cannot check out ${sha.slice(0, 10)}: ${(err as Error).message}` };
  }
  const command = argv.join(" ");
  if (run.code === 0) return { state: "success", detail: `${command} passed` };
  const why = run.timedOut ? `timed out after ${timeoutMs} ms` : `exited ${run.code ?? "on a signal"}`;
  return {
    state: "failure",
    detail: `${command} ${why}${run.tail ? `: …${run.tail.split("\n").slice(-3).join(" / ")}` : ""}`,
  };
}
