/**
 * Where each agent's transcript is: the file `oversight.transcripts` names, else, for an OpenClaw agent,
 * the SQLite store of each of its OpenClaw agents under its OPENCLAW_HOME and profile. A configured
 * path that holds an SQLite database is read as OpenClaw's store.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { AgentConfig, FlotillaConfig } from "../../config/schema.ts";
import { agentKind } from "../../constitution/instructions-file.ts";
import type { Cursor } from "./cursors.ts";
import { readTranscriptFile } from "./file-transcript.ts";
import { readOpenClawTranscript } from "./openclaw-transcript.ts";
import type { ReadResult } from "./read-result.ts";

export interface TranscriptSource {
  agent: string;
  /** Stable id of the source, the key of its cursor. */
  id: string;
  kind: "file" | "openclaw";
  path: string;
}

const SQLITE_MAGIC = "SQLite format 3\0";

function isSqlite(path: string): boolean {
  try {
    const fd = openSync(path, "r");
    try {
      const head = Buffer.alloc(16);
      return readSync(fd, head, 0, 16, 0) === 16 && head.toString("latin1") === SQLITE_MAGIC;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function argvOf(agent: AgentConfig): string[] {
  return typeof agent.command === "string" ? agent.command.trim().split(/\s+/) : [...agent.command];
}

/** The OpenClaw state folder of an agent: `$OPENCLAW_HOME/.openclaw-<profile>` (or `.openclaw` without one). */
export function openClawStateDir(agent: AgentConfig, env: NodeJS.ProcessEnv = process.env): string {
  const own = (name: string) =>
    typeof agent.env[name] === "string" ? (agent.env[name] as string) : undefined;
  const home = own("OPENCLAW_HOME") ?? own("HOME") ?? env.HOME ?? homedir();
  const argv = argvOf(agent);
  const at = argv.indexOf("--profile");
  const profile = at !== -1 ? argv[at + 1] : argv.find((w) => w.startsWith("--profile="))?.slice(10);
  return join(home, profile ? `.openclaw-${profile}` : ".openclaw");
}

/** The transcript sources of one agent (none for an agent with no configured file that is not OpenClaw). */
export function transcriptSources(config: FlotillaConfig, agent: AgentConfig): TranscriptSource[] {
  const configured = config.oversight.transcripts[agent.name];
  if (configured !== undefined)
    return [
      {
        agent: agent.name,
        id: `${agent.name}:${configured}`,
        kind: isSqlite(configured) ? "openclaw" : "file",
        path: configured,
      },
    ];
  if (agentKind(agent) !== "openclaw") return [];
  const agentsDir = join(openClawStateDir(agent), "agents");
  let names: string[] = [];
  try {
    names = readdirSync(agentsDir).sort();
  } catch {
    // No OpenClaw agent has run yet: nothing to read.
  }
  const stores = names
    .map((name) => join(agentsDir, name, "agent", "openclaw-agent.sqlite"))
    .filter((path) => existsSync(path));
  return stores.map((path) => ({ agent: agent.name, id: `${agent.name}:${path}`, kind: "openclaw", path }));
}

/** What was added to a source since `cursor`, at most `limit` bytes. */
export function readSource(source: TranscriptSource, cursor: Cursor | undefined, limit: number): ReadResult {
  return source.kind === "openclaw"
    ? readOpenClawTranscript(source.path, cursor, limit)
    : readTranscriptFile(source.path, cursor, limit);
}
