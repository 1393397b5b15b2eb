/**
 * The evidence a diagnosis reads about a target that is down: its last log lines, recent events about it and
 * the live config's validation, every part passed through the secret redactor before it leaves.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { formatProblems, validateConfigText } from "../../config/load.ts";
import type { FlotillaConfig } from "../../config/schema.ts";
import type { Evidence, Target } from "../types.ts";
import { readLogTail, type TailOptions } from "./log-tail.ts";
import { recentEvents } from "./recent-events.ts";

export interface GatherContext {
  config: FlotillaConfig;
  /** The live config file, validated as it is on disk now. */
  configFile: string;
  logLines: number;
}

/** Where a target's lines are: its own log, or the daemon's log filtered; none for the config. */
function logSource(target: Target, stateDir: string): { file: string; options?: TailOptions } | undefined {
  const daemonLog = join(stateDir, "daemon.log");
  switch (target.kind) {
    case "agent":
      return { file: join(stateDir, "logs", `${target.name}.log`) };
    case "gateway":
      return { file: join(stateDir, "logs", "gateway.log") };
    case "provider":
      // A provider has no process of its own: the gateway's lines that name it.
      return {
        file: join(stateDir, "logs", "gateway.log"),
        options: { accept: (l) => l.includes(target.name) },
      };
    case "daemon":
      return { file: daemonLog };
    case "oversight":
      return { file: daemonLog, options: { accept: (l) => /oversight|inject\./i.test(l) } };
    case "config":
      return undefined;
  }
}

/** "valid", or the live config file's problems, one per line (file:line: path: message). */
function checkConfigFile(configFile: string): string {
  let text: string;
  try {
    text = readFileSync(configFile, "utf8");
  } catch (err) {
    return `${configFile}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  const result = validateConfigText(text, configFile);
  return result.ok ? "valid" : formatProblems(result.problems);
}

/** Gathers the target's evidence; nothing in it has not been through `redact`. */
export function gatherEvidence(
  target: Target,
  ctx: GatherContext,
  redact: (text: string) => string,
): Evidence {
  const { stateDir } = ctx.config;
  const source = logSource(target, stateDir);
  const logs = source ? readLogTail(source.file, ctx.logLines, source.options).lines : [];
  return {
    logs: logs.map(redact),
    events: recentEvents(stateDir, target).map(redact),
    configCheck: redact(checkConfigFile(ctx.configFile)),
  };
}
