/**
 * Files Flotilla writes and owns (briefs, managed blocks, configs it generates). Each write is atomic
 * (temp file + rename) and keeps a copy of what was written under <stateDir>/managed/, so a later edit
 * made behind Flotilla's back can be found, and shown as a diff, by comparing the file with its copy.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The folder holding the copies, and the index of managed paths. */
function managedDir(stateDir: string): string {
  return join(stateDir, "managed");
}

function indexFile(stateDir: string): string {
  return join(managedDir(stateDir), "index.json");
}

/** Where the copy of one managed file lives: a name derived from its absolute path. */
function copyFile(stateDir: string, path: string): string {
  return join(managedDir(stateDir), resolve(path).replace(/[^A-Za-z0-9._-]/g, "_"));
}

/** Writes `content` to `path` atomically, creating the folder if needed. */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode });
  renameSync(temp, path);
}

/** The absolute paths Flotilla manages for this state dir. */
export function managedPaths(stateDir: string): string[] {
  if (!existsSync(indexFile(stateDir))) return [];
  return JSON.parse(readFileSync(indexFile(stateDir), "utf8")) as string[];
}

/** Writes a managed file and records what was written. */
export function writeManagedFile(stateDir: string, path: string, content: string): void {
  writeFileAtomic(resolve(path), content);
  adoptManagedFile(stateDir, path, content);
}

/**
 * Takes a file Flotilla did not write (the operator's flotilla.yaml, the constitution) under management as
 * it is now: its current content becomes the reference that drift checks compare against.
 */
export function adoptManagedFile(stateDir: string, path: string, content: string): void {
  const absolute = resolve(path);
  mkdirSync(managedDir(stateDir), { recursive: true, mode: 0o700 });
  writeFileAtomic(copyFile(stateDir, absolute), content, 0o600);
  const paths = managedPaths(stateDir);
  if (!paths.includes(absolute)) writeFileAtomic(indexFile(stateDir), JSON.stringify([...paths, absolute]));
}

/** What Flotilla last wrote to a managed path, or undefined when it never wrote it. */
export function lastWritten(stateDir: string, path: string): string | undefined {
  const copy = copyFile(stateDir, path);
  return existsSync(copy) ? readFileSync(copy, "utf8") : undefined;
}
