/**
 * Durable read positions in agents' transcripts, one per reader and source, so a run reads only what no
 * earlier run of the same check has read: a byte offset for a file, the last seq per session for OpenClaw.
 * Kept in `<stateDir>/oversight/<reader>.json`, written atomically (a crash keeps the previous positions).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where one reader stopped in one source. */
export type Cursor = { offset: number } | { sessions: Record<string, number> };

/** A reader's own note about an agent between runs, such as when it last claimed completion. */
export interface Mark {
  at: number;
  /** The newest commit already counted as proof, so it does not prove a later claim too. */
  commit?: string;
}

/** What one reader keeps between runs: its cursors by source id, and its marks by agent. */
export interface ReaderState {
  cursors: Record<string, Cursor>;
  marks: Record<string, Mark>;
}

function stateFile(stateDir: string, reader: string): string {
  return join(stateDir, "oversight", `${reader}.json`);
}

/** The reader's saved state; empty when there is none or it cannot be read (sources are then read from the start, bounded). */
export function readReaderState(stateDir: string, reader: string): ReaderState {
  try {
    const parsed = JSON.parse(readFileSync(stateFile(stateDir, reader), "utf8")) as Partial<ReaderState>;
    return { cursors: parsed.cursors ?? {}, marks: parsed.marks ?? {} };
  } catch {
    return { cursors: {}, marks: {} };
  }
}

/** Saves the reader's state. */
export function saveReaderState(stateDir: string, reader: string, state: ReaderState): void {
  const file = stateFile(stateDir, reader);
  mkdirSync(join(stateDir, "oversight"), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}
