/**
 * Makes sure an agent's workspace can be used, in bounded time: never under a kernel file system, created
 * one level at a time (Node's recursive mkdir spins for ever under /proc) and given up after a timeout.
 */
import { constants } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** File systems the kernel makes up: nothing an agent writes belongs there. */
const KERNEL_ROOTS = ["/proc", "/sys", "/dev"];
/** How long creating a workspace may take before preflight gives up (ms): a hung mount must not hang us. */
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

/** Creates the missing folders from the deepest existing ancestor down; throws the first error. */
async function createLevels(dir: string): Promise<void> {
  const missing: string[] = [];
  let at = dir;
  while (!(await exists(at))) {
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const level of missing)
    await mkdir(level).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  await access(dir, constants.W_OK);
}

/** One line saying why the workspace cannot be used, or undefined when it can (it exists afterwards). */
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
    const outcome = await Promise.race([createLevels(dir).then(() => "ok" as const), timeout]);
    if (outcome === "timeout")
      return `agent ${name}: workspace ${workspace} could not be created within ${timeoutMs}ms (a hung mount?); choose another workspace`;
    return undefined;
  } catch (err) {
    return `agent ${name}: workspace ${workspace} cannot be written (${(err as NodeJS.ErrnoException).code}); fix its permissions or choose another workspace`;
  } finally {
    clearTimeout(timer);
  }
}
