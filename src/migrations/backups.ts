/**
 * Backups under <stateDir>/backups/<id>/: the config text, the constitution and every managed file, with a
 * manifest. Secrets never land here: the config holds only references, and any resolved secret value
 * found in a file is replaced by its reference before the file is written.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { FlotillaError } from "../errors.ts";
import { managedPaths, writeFileAtomic } from "../config/managed-files.ts";
import type { FlotillaConfig } from "../config/schema.ts";
import { resolvedSecrets } from "../config/secrets.ts";

export type BackupRole = "config" | "constitution" | "managed";

export interface BackupEntry {
  path: string;
  role: BackupRole;
  /** Name of the copy inside the backup's files/ folder. */
  copy: string;
}

export interface BackupManifest {
  id: string;
  createdAt: number;
  reason: string;
  files: BackupEntry[];
}

export interface BackupInput {
  stateDir: string;
  configFile: string;
  configText: string;
  config: FlotillaConfig;
  reason: string;
  /** Backups to keep; older ones are removed (never one listed in `protect`). */
  keep: number;
  protect?: string[];
  env?: NodeJS.ProcessEnv;
}

function backupsDir(stateDir: string): string {
  return join(stateDir, "backups");
}

function stamp(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.(\d+)Z$/, "$1Z");
}

function redact(text: string, secrets: Array<{ label: string; value: string }>): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret.value).join(`<secret ${secret.label}>`);
  return out;
}

/** One file as a backup holds it: its live path, its role and its (already redacted) text. */
export interface BackupSource {
  path: string;
  role: BackupRole;
  text: string;
}

/**
 * Writes a backup of the texts given, as they are, and prunes old ones; returns its manifest. The watchdog
 * stores the config it is about to restore this way, so the restore goes through the same path as any backup.
 */
export function storeBackup(input: {
  stateDir: string;
  reason: string;
  sources: BackupSource[];
  keep: number;
  protect?: string[];
}): BackupManifest {
  const dir = backupsDir(input.stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let id = stamp(new Date());
  for (let n = 1; existsSync(join(dir, id)); n++) id = `${stamp(new Date())}-${n}`;
  const files = input.sources.map((source, index) => {
    const copy = `${String(index).padStart(3, "0")}-${source.role}`;
    writeFileAtomic(join(dir, id, "files", copy), source.text, 0o600);
    return { path: source.path, role: source.role, copy };
  });
  const manifest: BackupManifest = { id, createdAt: Date.now(), reason: input.reason, files };
  writeFileAtomic(join(dir, id, "manifest.json"), JSON.stringify(manifest, null, 2), 0o600);
  pruneBackups(input.stateDir, input.keep, [...(input.protect ?? []), id]);
  return manifest;
}

/** Backs up the config text given, the constitution and every managed file (secret values redacted). */
export function createBackup(input: BackupInput): BackupManifest {
  const secrets = resolvedSecrets(input.config, input.env ?? process.env);
  const sources: BackupSource[] = [
    { path: resolve(input.configFile), role: "config", text: input.configText },
  ];
  const constitution = input.config.constitution.articles;
  if (existsSync(constitution))
    sources.push({ path: constitution, role: "constitution", text: readFileSync(constitution, "utf8") });
  for (const path of managedPaths(input.stateDir)) {
    if (sources.some((s) => s.path === path) || !existsSync(path)) continue;
    sources.push({ path, role: "managed", text: readFileSync(path, "utf8") });
  }
  return storeBackup({
    stateDir: input.stateDir,
    reason: input.reason,
    sources: sources.map((source) => ({ ...source, text: redact(source.text, secrets) })),
    keep: input.keep,
    ...(input.protect ? { protect: input.protect } : {}),
  });
}

/** What `redact` leaves where a secret value was: `<secret env:NAME>` or `<secret file:PATH>`. */
export const REDACTION_PLACEHOLDER = /<secret (?:env|file):[^>\n]*>/;

/** Every backup, oldest first. */
export function listBackups(stateDir: string): BackupManifest[] {
  const dir = backupsDir(stateDir);
  if (!existsSync(dir)) return [];
  const manifests: BackupManifest[] = [];
  for (const name of readdirSync(dir).sort()) {
    try {
      manifests.push(JSON.parse(readFileSync(join(dir, name, "manifest.json"), "utf8")) as BackupManifest);
    } catch {
      // a backup interrupted before its manifest was written is not a backup
    }
  }
  return manifests;
}

/** Removes the oldest backups beyond `keep`, sparing the protected ones. */
export function pruneBackups(stateDir: string, keep: number, protect: string[] = []): void {
  const removable = listBackups(stateDir).filter((b) => !protect.includes(b.id));
  const excess = listBackups(stateDir).length - keep;
  for (const backup of removable.slice(0, Math.max(0, excess)))
    rmSync(join(backupsDir(stateDir), backup.id), { recursive: true, force: true });
}

/** One backup's manifest and file contents; an unknown id is a clear error listing the ids there are. */
export function readBackup(
  stateDir: string,
  id: string,
): { manifest: BackupManifest; contents: Map<string, string> } {
  const all = listBackups(stateDir);
  const manifest = all.find((b) => b.id === id);
  if (!manifest) {
    const ids = all.map((b) => b.id).join(", ") || "none yet; run flotilla backup";
    throw new FlotillaError("FLOTILLA_E_BACKUP_NOT_FOUND", `no backup "${id}" (backups: ${ids})`, {
      status: 404,
    });
  }
  const contents = new Map<string, string>();
  for (const file of manifest.files)
    contents.set(file.path, readFileSync(join(backupsDir(stateDir), id, "files", file.copy), "utf8"));
  return { manifest, contents };
}
