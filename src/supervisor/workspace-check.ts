/**
 * Checks that an agent's workspace can be used, in bounded time and without creating anything: never under
 * a kernel file system (Node's recursive mkdir spins for ever under /proc), given up after a timeout.
 * `ensureWorkspace` makes it once every check has passed.
 */
import { constants } from "node:fs";
import { mkdirSync } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** File systems the kernel makes up: nothing an agent writes belongs there. */
const KERNEL_ROOTS = ["/proc", "/sys", "/dev"];
/** How long checking a workspace may take before preflight gives up (ms): a hung mount must not hang us. */
export const WORKSPACE_TIMEOUT_MS = 5000;

const within = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the folder could be made and written, without making anything: the workspace itself when it
 * exists, else its deepest existing ancestor, must be a writable folder. Throws an error with a code.
 */
async function usable(dir: string): Promise<void> {
  let at = dir;
  while (!(await exists(at))) {
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  const info = await stat(at);
  if (!info.isDirectory()) throw Object.assign(new Error(`${at} is not a folder`), { code: "ENOTDIR" });
  await access(at, constants.W_OK | constants.X_OK);
}

/** One line saying why the workspace cannot be used, or undefined when it can; creates nothing. */
export async function workspaceProblem(
  name: string,
  workspace: string,
  timeoutMs = WORKSPACE_TIMEOUT_MS,
): Promise<string | undefined> {
  const dir = resolve(workspace);
  const root = KERNEL_ROOTS.find((r) => within(dir, r));
  if (root)
    return `agent ${name}: workspace ${workspace} is under ${root}, a kernel file system; choose a folder on disk`;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((done) => {
    timer = setTimeout(() => done("timeout"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([usable(dir).then(() => "ok" as const), timeout]);
    if (outcome === "timeout")
      return `agent ${name}: workspace ${workspace} could not be checked within ${timeoutMs}ms (a hung mount?); choose another workspace`;
    return undefined;
  } catch (err) {
    return `agent ${name}: workspace ${workspace} cannot be written (${(err as NodeJS.ErrnoException).code}); fix its permissions or choose another workspace`;
  } finally {
    clearTimeout(timer);
  }
}

/** Creates a workspace that preflight found usable (so neither under a kernel file system nor hung). */
export function ensureWorkspace(workspace: string): void {
  mkdirSync(workspace, { recursive: true });
}
