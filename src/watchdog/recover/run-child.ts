/**
 * The watchdog's own commands (`flotilla up`, `flotilla restore`) as children: argv arrays, a deadline,
 * the last lines of their output with every secret value of the fleet removed.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { redact } from "../../alerts/alert.ts";
import type { FlotillaConfig } from "../../config/schema.ts";
import { secretEnvNames } from "../../config/secrets.ts";
import type { ActionRun } from "../types.ts";

/** The CLI entry the watchdog runs with its own Node (process.execPath). */
export const FLOTILLA_BIN = fileURLToPath(new URL("../../../bin/flotilla.js", import.meta.url));

/** Lines of a child's output an ActionRun keeps. */
const OUTPUT_LINES = 20;
const MAX_BUFFER = 4 * 1024 * 1024;

/** The values of the fleet's { env } secret references in `env` (what must never be recorded). */
export function fleetSecrets(config: FlotillaConfig, env: NodeJS.ProcessEnv): string[] {
  return secretEnvNames(config).flatMap((name) => {
    const value = env[name];
    return value ? [value] : [];
  });
}

/** The last lines of a text, secrets removed. */
export function lastLines(text: string, secrets: readonly string[], lines = OUTPUT_LINES): string {
  return redact(text.trimEnd().split("\n").slice(-lines).join("\n"), secrets);
}

export interface ChildOutcome {
  run: ActionRun;
  /** The whole stdout (for --json answers), secrets removed. */
  stdout: string;
  stderr: string;
}

/** Runs `flotilla ARGS` and waits for it (killed with SIGKILL past timeoutMs); never throws. */
export function runFlotilla(
  shown: string[],
  args: string[],
  options: { env: NodeJS.ProcessEnv; timeoutMs: number; secrets: readonly string[] },
): Promise<ChildOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [FLOTILLA_BIN, ...args],
      { env: options.env, timeout: options.timeoutMs, killSignal: "SIGKILL", maxBuffer: MAX_BUFFER },
      (err, stdout, stderr) => {
        const failed = err as (NodeJS.ErrnoException & { killed?: boolean; code?: unknown }) | null;
        const exitCode = !failed ? 0 : typeof failed.code === "number" ? failed.code : null;
        const timedOut = failed?.killed === true;
        const out = redact(String(stdout), options.secrets);
        const errText = redact(String(stderr), options.secrets);
        resolve({
          run: {
            argv: shown,
            origin: "deterministic",
            exitCode,
            timedOut,
            output: lastLines(
              `${out}${errText}${timedOut ? `\nkilled after ${options.timeoutMs}ms` : ""}`,
              [],
            ),
            ms: Date.now() - started,
          },
          stdout: out,
          stderr: errText,
        });
      },
    );
  });
}
