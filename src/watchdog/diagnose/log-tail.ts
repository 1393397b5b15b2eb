/**
 * The last lines of a log, read backwards from the end in blocks (a log can be gigabytes), continuing into
 * the previous rotation (`FILE.1`, `FILE.2`, …) when the current file holds fewer lines than asked for.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

const LIMITS = {
  /** Bytes read per step backwards. */
  blockBytes: 64 * 1024,
  /** Bytes read in all, over every file: an agent that writes one endless line cannot make us read it all. */
  maxBytes: 4 * 1024 * 1024,
  /** A longer line is cut here (characters), with a mark. */
  maxLineChars: 1000,
};

export interface LogTail {
  lines: string[];
  /** Bytes read from disk, over every file. */
  bytesRead: number;
  /** The files that were read, newest first. */
  files: string[];
}

export interface TailOptions {
  /** Only lines this accepts count (oversight's lines among the daemon's). */
  accept?: (line: string) => boolean;
}

function cut(line: string): string {
  return line.length > LIMITS.maxLineChars ? `${line.slice(0, LIMITS.maxLineChars)} […cut]` : line;
}

/** Reads one file backwards; returns its accepted lines, oldest first, at most `want` of them. */
function tailOne(
  file: string,
  want: number,
  budget: number,
  accept: (line: string) => boolean,
): { lines: string[]; bytesRead: number } | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    let position = fstatSync(fd).size;
    let bytesRead = 0;
    let carry = Buffer.alloc(0); // the end of a line whose beginning is further back
    let overlong = false; // carry is only the last part of a line longer than the cap
    const lines: string[] = [];
    const take = (line: string) => {
      if (lines.length < want && accept(line)) lines.push(cut(line));
    };
    /** The end of a line whose start was not read (too long, or past the budget): its last part, marked. */
    const takeEnd = (end: Buffer) => {
      const line = end.toString("utf8");
      if (lines.length < want && accept(line)) lines.push(`[…cut] ${line.slice(-LIMITS.maxLineChars)}`);
    };
    let first = true;
    while (lines.length < want && position > 0 && bytesRead < budget) {
      const length = Math.min(LIMITS.blockBytes, position, budget - bytesRead);
      position -= length;
      let data = Buffer.alloc(length);
      readSync(fd, data, 0, length, position);
      bytesRead += length;
      if (first && data[data.length - 1] === 0x0a) data = data.subarray(0, -1); // the last newline ends a line
      first = false;
      if (overlong) {
        const nl = data.lastIndexOf(0x0a);
        if (nl < 0) continue; // still inside the overlong line: skip its middle
        takeEnd(carry);
        data = data.subarray(0, nl);
        carry = Buffer.alloc(0);
        overlong = false;
        if (data.length === 0) continue;
      }
      data = Buffer.concat([data, carry]);
      let end = data.length;
      for (let nl = data.lastIndexOf(0x0a, end - 1); nl >= 0 && lines.length < want;) {
        take(data.subarray(nl + 1, end).toString("utf8"));
        end = nl;
        nl = end > 0 ? data.lastIndexOf(0x0a, end - 1) : -1;
      }
      carry = data.subarray(0, end);
      if (carry.length > LIMITS.maxLineChars * 4) {
        carry = carry.subarray(carry.length - LIMITS.maxLineChars);
        overlong = true;
      }
    }
    if (carry.length > 0) {
      // At the file's start the carry is its first line; otherwise the budget ran out inside a line.
      if (position === 0 && !overlong) take(carry.toString("utf8"));
      else takeEnd(carry);
    }
    return { lines: lines.reverse(), bytesRead };
  } finally {
    closeSync(fd);
  }
}

/** The last `n` (accepted) lines of `file` and its rotations, oldest first; a missing file gives none. */
export function readLogTail(file: string, n: number, options: TailOptions = {}): LogTail {
  const accept = options.accept ?? (() => true);
  let lines: string[] = [];
  let bytesRead = 0;
  const files: string[] = [];
  for (let rotation = 0; lines.length < n && bytesRead < LIMITS.maxBytes; rotation++) {
    const path = rotation === 0 ? file : `${file}.${rotation}`;
    const part = tailOne(path, n - lines.length, LIMITS.maxBytes - bytesRead, accept);
    if (!part) {
      if (rotation === 0) continue; // no current file (just rotated, or never written): look at the rotations
      break;
    }
    files.push(path);
    bytesRead += part.bytesRead;
    lines = [...part.lines, ...lines];
  }
  return { lines, bytesRead, files };
}
