/** Whether a mode can work on this machine: bubblewrap present and allowed to make namespaces, root for user mode. */
import { spawnSync } from "node:child_process";

let sandboxVerdict: string | null | undefined;

/** Why a bubblewrap sandbox cannot start here, or null when it can. Tried once per process. */
export function sandboxProblem(bwrap = "bwrap"): string | null {
  if (sandboxVerdict !== undefined && bwrap === "bwrap") return sandboxVerdict;
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "true"];
  const asUser = process.getuid?.() !== 0;
  const run = spawnSync(bwrap, asUser ? ["--unshare-user", ...args] : args, {
    encoding: "utf8",
    timeout: 10_000,
  });
  let verdict: string | null = null;
  if (run.error && (run.error as NodeJS.ErrnoException).code === "ENOENT") {
    verdict =
      "bubblewrap (bwrap) is not installed; install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap), or set isolation: none for this agent";
  } else if (run.status !== 0) {
    const said = (run.stderr || String(run.error ?? "")).trim().split("\n")[0] ?? "";
    verdict = `bubblewrap cannot create a sandbox here (${said.slice(0, 200)}); enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0, or the AppArmor profile for bwrap), run the daemon as root, or set isolation: none for this agent`;
  }
  if (bwrap === "bwrap") sandboxVerdict = verdict;
  return verdict;
}

/** Why user mode cannot work, or null: the daemon must be root to start a process as another user. */
export function userModeProblem(): string | null {
  const uid = process.getuid?.();
  if (uid === 0) return null;
  return `isolation user needs the daemon to run as root (it runs as uid ${uid}); run it as root (the systemd system unit), or choose isolation: sandbox`;
}
