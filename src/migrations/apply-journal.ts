/**
 * The apply journal (<stateDir>/apply-journal.json): written atomically before an apply touches anything,
 * so that after a daemon death mid-apply the next `up` settles on one whole config: the old one, or the
 * new one when the apply had committed.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FlotillaError } from "../errors.ts";
import { writeFileAtomic, writeManagedFile } from "../config/managed-files.ts";

export type ApplyPhase = "applying" | "committed" | "rolling_back";

/** One file an apply changes: its content before (null: it did not exist) and after. */
export interface JournalFile {
  path: string;
  before: string | null;
  after: string;
}

export interface ApplyJournal {
  id: string;
  phase: ApplyPhase;
  startedAt: number;
  /** What asked for the apply: "apply FILE", "restore ID". */
  source: string;
  backupId: string | null;
  files: JournalFile[];
}

export interface Settlement {
  id: string;
  phase: ApplyPhase;
  action: "rolled_back" | "rolled_forward";
  files: string[];
}

function journalFile(stateDir: string): string {
  return join(stateDir, "apply-journal.json");
}

/** The journal of an unfinished apply, or undefined. */
export function readJournal(stateDir: string): ApplyJournal | undefined {
  const file = journalFile(stateDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ApplyJournal;
  } catch (cause) {
    throw new FlotillaError(
      "FLOTILLA_E_STATE",
      `${file} cannot be read; compare the config with "flotilla restore" (the backups), then remove the file`,
      { cause },
    );
  }
}

export function writeJournal(stateDir: string, journal: ApplyJournal): void {
  writeFileAtomic(journalFile(stateDir), JSON.stringify(journal, null, 2), 0o600);
}

export function clearJournal(stateDir: string): void {
  rmSync(journalFile(stateDir), { force: true });
}

/** Writes one side of the journal's files (each write atomic, each recorded as Flotilla's own for drift). */
export function writeSide(stateDir: string, files: JournalFile[], side: "before" | "after"): void {
  for (const file of files) {
    const content = file[side];
    if (content === null) rmSync(file.path, { force: true });
    else writeManagedFile(stateDir, file.path, content);
  }
}

/**
 * Finishes what a dead daemon left half done: rolls forward when the apply had committed, else rolls back.
 * Returns what it did, or undefined when there was no journal.
 */
export function settleJournal(stateDir: string): Settlement | undefined {
  const journal = readJournal(stateDir);
  if (!journal) return undefined;
  const forward = journal.phase === "committed";
  writeSide(stateDir, journal.files, forward ? "after" : "before");
  clearJournal(stateDir);
  return {
    id: journal.id,
    phase: journal.phase,
    action: forward ? "rolled_forward" : "rolled_back",
    files: journal.files.map((f) => f.path),
  };
}
