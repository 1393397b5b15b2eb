/**
 * A configured transcript file (JSON lines or plain text), read from a byte offset, at most `limit` bytes
 * a run and only up to the last whole line. A file that shrank was replaced or truncated: read it from
 * its start again.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { Cursor } from "./cursors.ts";
import type { ReadResult } from "./read-result.ts";
import { renderLine } from "./render.ts";

function offsetOf(cursor: Cursor | undefined): number {
  return cursor && "offset" in cursor ? cursor.offset : 0;
}

/**
 * Where to cut a chunk: after its last newline (a line still being written waits for the next run), the
 * end of the file when the chunk is one unterminated line, or (a line longer than the chunk) at a UTF-8
 * boundary.
 */
function cutAt(chunk: Buffer, atEnd: boolean): number {
  const newline = chunk.lastIndexOf(0x0a);
  if (newline !== -1) return newline + 1;
  if (atEnd) return chunk.length;
  let end = chunk.length;
  while (end > 0 && ((chunk[end] ?? 0) & 0xc0) === 0x80) end--;
  return end;
}

/** Reads what was appended to `path` since `cursor`, at most `limit` bytes. */
export function readTranscriptFile(path: string, cursor: Cursor | undefined, limit: number): ReadResult {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      problem:
        code === "ENOENT"
          ? `transcript file ${path} does not exist; check oversight.transcripts or the agent's logging`
          : `transcript file ${path} cannot be read (${code ?? (err as Error).message}); give the daemon read access`,
    };
  }
  try {
    const size = fstatSync(fd).size;
    let start = offsetOf(cursor);
    if (start > size) start = 0;
    const want = Math.min(size - start, limit);
    const chunk = Buffer.alloc(want);
    const got = want > 0 ? readSync(fd, chunk, 0, want, start) : 0;
    const read = chunk.subarray(0, got);
    if (read.includes(0))
      return {
        ok: false,
        problem: `transcript file ${path} holds binary data (a NUL byte after offset ${start}); point oversight.transcripts at a text or JSON-lines file`,
        cursor: { offset: start + got },
      };
    const end = cutAt(read, start + got >= size);
    const text = read
      .subarray(0, end)
      .toString("utf8")
      .split("\n")
      .map(renderLine)
      .filter((line) => line !== undefined)
      .join("\n");
    return {
      ok: true,
      window: { text, bytes: end, cursor: { offset: start + end }, truncated: start + end < size },
    };
  } finally {
    closeSync(fd);
  }
}
