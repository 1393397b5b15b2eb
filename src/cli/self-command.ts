/**
 * How to name this CLI in a hint so that it works as printed: `flotilla` when that is on PATH and is this
 * install, else the path of this install's bin/flotilla.js (which runs on its own, see bin/flotilla.js).
 */
import { realpathSync } from "node:fs";
import { delimiter, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));

function realpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** `flotilla`, or the path to this install's bin (relative to the working folder when shorter). */
export function selfCommand(path = process.env.PATH ?? "", cwd = process.cwd()): string {
  const ours = realpath(BIN);
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const found = realpath(join(dir, "flotilla"));
    if (found !== undefined) return found === ours ? "flotilla" : BIN;
  }
  const near = relative(cwd, BIN);
  return near.length < BIN.length && !near.startsWith("..") ? `./${near}` : BIN;
}
