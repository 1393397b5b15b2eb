/**
 * OpenClaw's transcripts: rows of `transcript_events` in the agent's SQLite store, one JSON event each
 * (in `event_json`, or zstd-compressed in `event_zstd`). Opened read-only (OpenClaw writes it in WAL
 * mode); read per session from the last seq seen, at most `limit` bytes of events a run.
 */
import { DatabaseSync } from "node:sqlite";
import { zstdDecompressSync } from "node:zlib";
import type { Cursor } from "./cursors.ts";
import type { ReadResult } from "./read-result.ts";
import { renderEvent } from "./render.ts";

interface Row {
  session_id: string;
  seq: number;
  event_json: string | null;
  event_zstd: Uint8Array | null;
}

/** Rows fetched per query: a run stops early once the read limit is spent. */
const PAGE = 200;

function decode(row: Row): string {
  if (row.event_json !== null) return row.event_json;
  if (row.event_zstd !== null) return zstdDecompressSync(row.event_zstd).toString("utf8");
  return "";
}

function parse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

/** Reads the events added to an OpenClaw store since `cursor`, session by session, at most `limit` bytes. */
export function readOpenClawTranscript(path: string, cursor: Cursor | undefined, limit: number): ReadResult {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (err) {
    return {
      ok: false,
      problem: `OpenClaw transcript store ${path} cannot be opened (${(err as Error).message}); has the agent run yet?`,
    };
  }
  try {
    const sessions: Record<string, number> = { ...(cursor && "sessions" in cursor ? cursor.sessions : {}) };
    const ids = db.prepare("SELECT DISTINCT session_id FROM transcript_events ORDER BY session_id").all();
    const page = db.prepare(
      "SELECT session_id, seq, event_json, event_zstd FROM transcript_events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    );
    const lines: string[] = [];
    let bytes = 0;
    let truncated = false;
    for (const { session_id: id } of ids as unknown as Array<{ session_id: string }>) {
      for (;;) {
        const rows = page.all(id, sessions[id] ?? -1, PAGE) as unknown as Row[];
        for (const row of rows) {
          const json = decode(row);
          const size = Buffer.byteLength(json);
          if (bytes + size > limit && bytes > 0) {
            truncated = true;
            break;
          }
          bytes += size;
          sessions[id] = row.seq;
          const line = renderEvent(parse(json));
          if (line !== undefined) lines.push(line);
        }
        if (truncated || rows.length < PAGE) break;
      }
      if (truncated) break;
    }
    return { ok: true, window: { text: lines.join("\n"), bytes, cursor: { sessions }, truncated } };
  } catch (err) {
    return {
      ok: false,
      problem: `${path} is not an OpenClaw transcript store this version reads (${(err as Error).message})`,
    };
  } finally {
    db.close();
  }
}
