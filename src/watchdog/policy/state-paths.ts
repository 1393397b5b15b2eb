/**
 * Paths a fix may touch, resolved the way the kernel will: every parent's symlinks followed (realpath), the
 * final component looked at without following it. A path is judged by where it really is, not how it is spelled.
 */
import { lstatSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { show } from "./argv-checks.ts";

/** A path the policy accepted: the real path the runner acts on, not the model's spelling of it. */
export interface ResolvedPath {
  real: string;
}

function realDir(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Whether `path` lies strictly inside `dir` (both real paths). */
function inside(path: string, dir: string): boolean {
  return path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/**
 * `path`, which must be absolute, resolved through its parents' symlinks to a location inside `root` (itself
 * resolved), and not itself a symlink. Returns the real path or the refusal reason.
 */
function resolveInside(path: string, root: string, rootLabel: string): ResolvedPath | string {
  if (!isAbsolute(path)) return `${show(path)} is not an absolute path; name the file with its full path`;
  const realRoot = realDir(root);
  if (!realRoot) return `${rootLabel} ${root} does not exist`;
  const parent = realDir(dirname(path));
  if (!parent) return `${show(path)}: its folder does not exist`;
  const real = join(parent, basename(path));
  if (!inside(real, realRoot))
    return `${show(path)} resolves to ${show(real)}, outside ${rootLabel} ${realRoot} (symlinks followed)`;
  let stat;
  try {
    stat = lstatSync(real);
  } catch {
    return `${show(path)} does not exist`;
  }
  if (stat.isSymbolicLink()) return `${show(path)} is a symlink; only a regular file is removed or applied`;
  if (!stat.isFile()) return `${show(path)} is not a regular file`;
  return { real };
}

/** Names `rm` may remove: stale locks and pid files. */
const REMOVABLE = /\.(lock|pid)$/;

/**
 * A stale lock or pid file inside the state dir, for `rm [-f] PATH`. daemon.json is never removed this way:
 * a dead daemon's daemon.json is already ignored (its pid is checked) and replaced by the next `flotilla up`,
 * while removing a live one would orphan the daemon.
 */
export function removableFile(path: string, stateDir: string): ResolvedPath | string {
  const name = basename(path);
  if (!REMOVABLE.test(name))
    return `rm: ${show(path)} is not a .lock or .pid file; only a stale lock or pid file in the state dir may be removed`;
  const resolved = resolveInside(path, stateDir, "the state dir");
  return typeof resolved === "string" ? `rm: ${resolved}` : resolved;
}

/** A config copy inside <stateDir>/backups (backups/<id>/files/NNN-config), for `flotilla config apply FILE`. */
export function backupConfigCopy(path: string, stateDir: string): ResolvedPath | string {
  const resolved = resolveInside(path, join(stateDir, "backups"), "the backups folder");
  if (typeof resolved === "string") return `config apply: ${resolved}`;
  if (!/^\d{3}-config$/.test(basename(resolved.real)) || basename(dirname(resolved.real)) !== "files")
    return `config apply: ${show(path)} is not a backup's config copy (backups/ID/files/NNN-config); use flotilla restore ID instead`;
  return resolved;
}
