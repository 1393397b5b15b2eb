/** What reading one transcript source gives: the new text since the cursor, or a problem to report. */
import type { Cursor } from "./cursors.ts";

export interface TranscriptWindow {
  /** The new events as lines (`role: text`), what the judge reads and what evidence must quote. */
  text: string;
  /** Bytes of the source consumed (file bytes, or the JSON of SQLite events). */
  bytes: number;
  /** Where the next run starts. */
  cursor: Cursor;
  /** More was there than the read limit allows; the rest waits for the next run. */
  truncated: boolean;
}

export type ReadResult =
  | { ok: true; window: TranscriptWindow }
  /** The source cannot be read as a transcript: missing, binary, not OpenClaw's store. */
  | { ok: false; problem: string; cursor?: Cursor };
