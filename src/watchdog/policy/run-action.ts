/**
 * Runs one action the policy allowed (or the watchdog's own restart or restore): no shell, no stdin, a clean
 * environment, its own process group killed whole at the timeout, output capped and redacted, and, where
 * bubblewrap works, the same kind of sandbox as an agent (see actionSandboxArgs).
 */
import { spawn } from "node:child_process";
import { dirname } from "node:path";
import type { FlotillaConfig } from "../../config/schema.ts";
import { fleetView } from "../../isolation/policy.ts";
import { sandboxProblem } from "../../isolation/probe.ts";
import { actionSandboxArgs } from "../../isolation/sandbox.ts";
import { signalGroup } from "../../supervisor/process-tree.ts";
import type { ActionRun } from "../types.ts";

export interface RunOptions {
  timeoutMs: number;
  isolation: "sandbox" | "none";
  stateDir: string;
  configFile: string;
  /** Variables the action gets besides PATH, HOME and LANG (taken from the watchdog's own environment). */
  env: NodeJS.ProcessEnv;
  redact?: (text: string) => string;
  /** Paths the sandbox hides (the agents' workspaces, the secret files): actionHiddenPaths gives them. */
  hide?: string[];
}

/** Output kept: the last 64 KB, of which the last 40 lines. */
const KEEP_BYTES = 64 * 1024;
const KEEP_LINES = 40;

/** The variables an action inherits from the watchdog; nothing else of its environment reaches it. */
const INHERITED = ["PATH", "HOME", "LANG"] as const;

/** The fleet's isolation mode for actions: "sandbox" when the fleet isolates and bubblewrap works here. */
export function actionIsolation(config: FlotillaConfig): "sandbox" | "none" {
  if ((config.isolation.mode ?? "sandbox") === "none") return "none";
  return sandboxProblem() === null ? "sandbox" : "none";
}

/** What an action's sandbox hides: every agent's workspace and every secret file of the fleet. */
export function actionHiddenPaths(config: FlotillaConfig, configFile: string): string[] {
  const view = fleetView(config, configFile);
  return [...view.workspaces, ...view.secretFiles];
}

function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED) if (process.env[name] !== undefined) env[name] = process.env[name];
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

/** A byte ring of the last KEEP_BYTES written. */
function outputTail(): { push(chunk: Buffer): void; text(): { text: string; cut: boolean } } {
  let chunks: Buffer[] = [];
  let size = 0;
  let cut = false;
  return {
    push(chunk) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > KEEP_BYTES * 2) {
        const all = Buffer.concat(chunks);
        chunks = [all.subarray(all.length - KEEP_BYTES)];
        size = KEEP_BYTES;
        cut = true;
      }
    },
    text() {
      const all = Buffer.concat(chunks);
      if (all.length > KEEP_BYTES) cut = true;
      return { text: all.subarray(Math.max(0, all.length - KEEP_BYTES)).toString("utf8"), cut };
    },
  };
}

/** The last KEEP_LINES lines, redacted; a line cut by the byte cap is dropped, so no half secret survives it. */
function lastLines(tail: { text: string; cut: boolean }, redact: (text: string) => string): string {
  let lines = redact(tail.text).split("\n");
  if (tail.cut) lines = lines.slice(1);
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-KEEP_LINES).join("\n");
}

/** Runs argv (already judged) and reports how it ended; never throws. */
export function runAction(
  argv: string[],
  origin: ActionRun["origin"],
  options: RunOptions,
): Promise<ActionRun> {
  const started = Date.now();
  const redact = options.redact ?? ((text: string) => text);
  const spawned =
    options.isolation === "sandbox"
      ? ["bwrap", ...actionSandboxArgs(options.stateDir, options.configFile, options.hide ?? [], argv)]
      : argv;
  const [program = "", ...args] = spawned;
  return new Promise((resolve) => {
    const tail = outputTail();
    let timedOut = false;
    let done = false;
    // A spawn error may be followed by "close": the first to come reports.
    const finish = (exitCode: number | null, note?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const output = lastLines(tail.text(), redact);
      resolve({
        argv,
        origin,
        exitCode,
        timedOut,
        output: note ? [output, note].filter(Boolean).join("\n") : output,
        ms: Date.now() - started,
      });
    };
    const child = spawn(program, args, {
      shell: false,
      stdio: ["ignore", "pipe", "pipe"],
      env: cleanEnv(options.env),
      cwd: options.isolation === "sandbox" ? "/" : dirname(options.configFile),
      detached: true,
    });
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) signalGroup(child.pid, "SIGKILL");
    }, options.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => tail.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => tail.push(chunk));
    let exitCode: number | null = null;
    child.on("exit", (code) => {
      exitCode = code;
      // Nothing an action started outlives it: stragglers in its group would hold its pipes open.
      if (child.pid) signalGroup(child.pid, "SIGKILL");
    });
    child.on("close", () => finish(exitCode));
    child.on("error", (err: NodeJS.ErrnoException) => {
      // Spawn failed (no such program): the shell's conventions, 127 not found, 126 not runnable.
      finish(err.code === "ENOENT" ? 127 : 126, redact(`could not start ${program}: ${err.message}`));
    });
  });
}
