/**
 * A foreground command (up, logs -f) ends with the process that started it: when its parent dies (npm
 * killed with SIGTERM, a closed wrapper), the command is reparented, and it stops instead of running on.
 */

/** The parent this CLI process started under (read as the CLI loads, before anything slow). */
const firstParent = process.ppid;

/** Calls `gone` once the parent process has changed; returns a function that stops watching. */
export function whenParentGone(gone: () => void, everyMs = 500): () => void {
  const parent = firstParent;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    gone();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
