/** Per-agent log: lines from stdout and stderr go to a size-rotated file and an in-memory ring of the last lines. */
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";

export interface LogLine {
  ts: number;
  stream: "stdout" | "stderr" | "flotilla";
  text: string;
}

export interface LogSinkOptions {
  file: string;
  maxSize: number;
  keep: number;
  ringLines: number;
  /** Lines to start the ring with (the last lines of the agent's previous run, kept across a replace). */
  history?: LogLine[];
}

export type LogListener = (line: LogLine) => void;

/** Opens (appends to) the log file; `write` splits chunks into lines, rotating the file past maxSize. */
export function createLogSink(options: LogSinkOptions) {
  mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
  let fd = openSync(options.file, "a", 0o600);
  let size = fstatSync(fd).size;
  const ring: LogLine[] = (options.history ?? []).slice(-options.ringLines);
  const partial = { stdout: "", stderr: "" };
  const listeners = new Set<LogListener>();

  function rotate(): void {
    closeSync(fd);
    for (let i = options.keep; i >= 1; i--) {
      const from = i === 1 ? options.file : `${options.file}.${i - 1}`;
      if (existsSync(from)) renameSync(from, `${options.file}.${i}`);
    }
    if (options.keep === 0) rmSync(options.file, { force: true });
    fd = openSync(options.file, "a", 0o600);
    size = 0;
  }

  function emit(line: LogLine): void {
    const bytes = Buffer.from(line.stream === "flotilla" ? `[flotilla] ${line.text}\n` : `${line.text}\n`);
    if (size + bytes.length > options.maxSize && size > 0) rotate();
    writeSync(fd, bytes);
    size += bytes.length;
    ring.push(line);
    if (ring.length > options.ringLines) ring.shift();
    for (const listener of listeners) listener(line);
  }

  return {
    /** Feeds a chunk from the agent's stdout or stderr. */
    write(stream: "stdout" | "stderr", chunk: Buffer | string): void {
      const text = partial[stream] + chunk.toString();
      const lines = text.split("\n");
      partial[stream] = lines.pop() ?? "";
      const ts = Date.now();
      for (const line of lines) emit({ ts, stream, text: line });
    },
    /** Writes a line of Flotilla's own (start, exit, restart) into the agent's log. */
    note(text: string): void {
      emit({ ts: Date.now(), stream: "flotilla", text });
    },
    /** Flushes a trailing partial line, e.g. when the process exits. */
    flushPartial(): void {
      for (const stream of ["stdout", "stderr"] as const) {
        if (partial[stream]) emit({ ts: Date.now(), stream, text: partial[stream] });
        partial[stream] = "";
      }
    },
    tail(n: number): LogLine[] {
      return ring.slice(Math.max(0, ring.length - n));
    },
    subscribe(listener: LogListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close(): void {
      closeSync(fd);
      listeners.clear();
    },
  };
}

export type LogSink = ReturnType<typeof createLogSink>;
