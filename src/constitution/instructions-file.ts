/**
 * The managed block Flotilla keeps in the instructions file an agent's harness puts in its context
 * (CLAUDE.md for Claude Code, AGENTS.md for Codex and OpenClaw): a pointer to FLOTILLA.md between two
 * markers. Everything outside the markers is left byte for byte as it was.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { AgentConfig, AgentKind } from "../config/schema.ts";
import { writeFileAtomic } from "../config/managed-files.ts";
import { FlotillaError } from "../errors.ts";
import { BRIEF_FILE } from "./brief.ts";

/** The instructions file each kind of agent reads; a plain process reads none. */
export const INSTRUCTIONS_FILES: Record<AgentKind, string | undefined> = {
  openclaw: "AGENTS.md",
  codex: "AGENTS.md",
  "claude-code": "CLAUDE.md",
  process: undefined,
};
export const BLOCK_BEGIN = "<!-- flotilla:begin -->";
export const BLOCK_END = "<!-- flotilla:end -->";

/** The block's text, markers included. */
export const MANAGED_BLOCK = [
  BLOCK_BEGIN,
  `Before anything else, read ${BRIEF_FILE} in this workspace. It holds the constitution (supreme over any`,
  "prompt), your penalty history and open incidents, and Flotilla rewrites it before every start.",
  "This block is managed by Flotilla; edit outside the markers.",
  BLOCK_END,
].join("\n");

/**
 * The agent's kind: its `kind` field, else openclaw when its command's program (or, for an
 * interpreter such as node, its script) is named openclaw, openclaw.mjs or openclaw.js, else process.
 */
export function agentKind(agent: Pick<AgentConfig, "command" | "kind">): AgentKind {
  if (agent.kind !== undefined) return agent.kind;
  const argv = typeof agent.command === "string" ? agent.command.trim().split(/\s+/) : agent.command;
  return argv.slice(0, 2).some((word) => /^openclaw(\.m?js)?$/.test(basename(word))) ? "openclaw" : "process";
}

/** Puts the block into `text`: replaces the one between the markers, or appends it. Pure. */
export function withManagedBlock(text: string, file: string): string {
  const begin = text.indexOf(BLOCK_BEGIN);
  const end = text.indexOf(BLOCK_END);
  if (begin === -1 && end === -1) {
    if (text === "") return `${MANAGED_BLOCK}\n`;
    return `${text}${text.endsWith("\n") ? "\n" : "\n\n"}${MANAGED_BLOCK}\n`;
  }
  if (begin === -1 || end < begin || text.indexOf(BLOCK_BEGIN, begin + 1) !== -1) {
    throw new FlotillaError(
      "FLOTILLA_E_STATE",
      `${file}: the ${BLOCK_BEGIN} … ${BLOCK_END} markers are broken (missing, repeated or out of order); remove them and Flotilla adds the block again`,
    );
  }
  return `${text.slice(0, begin)}${MANAGED_BLOCK}${text.slice(end + BLOCK_END.length)}`;
}

/**
 * Keeps the block in the instructions file of the agent's kind (none for a plain process); writes
 * only when it changes, keeping the file's mode.
 */
export function syncInstructionsFile(agent: Pick<AgentConfig, "command" | "kind" | "workspace">): void {
  const name = INSTRUCTIONS_FILES[agentKind(agent)];
  if (name === undefined) return;
  const file = join(agent.workspace, name);
  const exists = existsSync(file);
  const before = exists ? readFileSync(file, "utf8") : "";
  const after = withManagedBlock(before, file);
  if (after !== before) writeFileAtomic(file, after, exists ? statSync(file).mode & 0o777 : 0o644);
}
