/**
 * One watchdog per state dir: <stateDir>/watchdog.lock, created with O_EXCL, holds the holder's pid and process
 * start time. A lock whose holder is gone (or whose pid now belongs to another process) is taken over; the
 * takeover itself is serialised by a second O_EXCL file, so two processes racing over a stale lock never both win.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { FlotillaError } from "../errors.ts";
import { isAlive, readProc } from "../supervisor/process-tree.ts";

export interface Holder {
  pid: number;
  startTime: number;
}

const ATTEMPTS = 100;
/** Pause between attempts while another process writes or takes over the lock (ms). */
const PAUSE_MS = 20;
/** An unparsable lock this old is debris, not a holder in the middle of writing it (ms). */
const DEBRIS_AFTER_MS = 2000;

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function parseHolder(text: string | undefined): Holder | undefined {
  try {
    const parsed = JSON.parse(text ?? "") as Partial<Holder>;
    return typeof parsed.pid === "number" && typeof parsed.startTime === "number"
      ? { pid: parsed.pid, startTime: parsed.startTime }
      : undefined;
  } catch {
    return undefined;
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Creates file holding `me` with O_EXCL; false when it exists. */
function create(file: string, me: Holder): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new FlotillaError(
      "FLOTILLA_E_STATE",
      `${file}: cannot create the watchdog lock (${(err as Error).message}); check the state dir's permissions`,
      { cause: err },
    );
  }
  try {
    writeSync(fd, JSON.stringify(me));
  } finally {
    closeSync(fd);
  }
  return true;
}

const running = (holder: Holder, stateDir: string) =>
  new FlotillaError(
    "FLOTILLA_E_WATCHDOG_RUNNING",
    `a watchdog (pid ${holder.pid}) already watches ${stateDir}; let it work, or stop it (kill ${holder.pid}) before starting another`,
  );

/**
 * Removes a stale lock, if its content is still `stale`, under the takeover file: a process that read the
 * stale lock just before another took it over and wrote its own must not remove the new holder's lock.
 */
export function takeOver(file: string, stale: string, me: Holder): void {
  const guard = `${file}.takeover`;
  if (!create(guard, me)) {
    // Another process is taking over; its guard is debris only if that process is gone.
    const taker = parseHolder(readText(guard));
    if (taker ? !isAlive(taker.pid, taker.startTime) : ageMs(guard) > DEBRIS_AFTER_MS)
      rmSync(guard, { force: true });
    return;
  }
  try {
    if (readText(file) === stale) rmSync(file, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
}

/** Takes the watchdog lock of stateDir, or throws FLOTILLA_E_WATCHDOG_RUNNING naming the live holder. */
export function acquireWatchdogLock(stateDir: string): { release(): void } {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(stateDir, "watchdog.lock");
  const me = { pid: process.pid, startTime: readProc(process.pid)?.startTime ?? 0 };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (create(file, me)) return { release: () => release(file, me) };
    const text = readText(file);
    if (text === undefined) continue; // removed meanwhile: try again at once
    const holder = parseHolder(text);
    if (holder && isAlive(holder.pid, holder.startTime)) throw running(holder, stateDir);
    if (holder || ageMs(file) > DEBRIS_AFTER_MS) takeOver(file, text, me);
    pause(PAUSE_MS);
  }
  throw new FlotillaError(
    "FLOTILLA_E_STATE",
    `${file}: cannot take the watchdog lock; if no watchdog runs, remove the file`,
  );
}

/** Removes the lock if it is still this process's. */
function release(file: string, me: Holder): void {
  const holder = parseHolder(readText(file));
  if (holder?.pid === me.pid && holder.startTime === me.startTime) rmSync(file, { force: true });
}

/** The live watchdog holding stateDir's lock, or undefined (no lock, or its holder is gone). */
export function watchdogHolder(stateDir: string): Holder | undefined {
  const holder = parseHolder(readText(join(stateDir, "watchdog.lock")));
  return holder && isAlive(holder.pid, holder.startTime) ? holder : undefined;
}
