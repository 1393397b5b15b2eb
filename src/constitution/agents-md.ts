/**
 * The managed block Flotilla keeps in an OpenClaw workspace's AGENTS.md (which OpenClaw puts in the
 * agent's context): a pointer to FLOTILLA.md between two markers. Everything outside the markers is
 * left byte for byte as it was.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { AgentConfig } from "../config/schema.ts";
import { writeFileAtomic } from "../config/managed-files.ts";
import { FlotillaError } from "../errors.ts";
import { BRIEF_FILE } from "./brief.ts";

export const AGENTS_FILE = "AGENTS.md";
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
 * Whether an agent runs OpenClaw: its command's program (or, for an interpreter such as node, its
 * script) is named openclaw, openclaw.mjs or openclaw.js.
 */
export function runsOpenClaw(agent: Pick<AgentConfig, "command">): boolean {
  const argv = typeof agent.command === "string" ? agent.command.trim().split(/\s+/) : agent.command;
  return argv.slice(0, 2).some((word) => /^openclaw(\.m?js)?$/.test(basename(word)));
}

/** Puts the block into `text`: replaces the one between the markers, or appends it. Pure. */
export function withManagedBlock(text: string, file = AGENTS_FILE): string {
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

/** Keeps the block in the workspace's AGENTS.md; writes only when it changes, keeping the file's mode. */
export function syncAgentsFile(workspace: string): void {
  const file = join(workspace, AGENTS_FILE);
  const exists = existsSync(file);
  const before = exists ? readFileSync(file, "utf8") : "";
  const after = withManagedBlock(before, file);
  if (after !== before) writeFileAtomic(file, after, exists ? statSync(file).mode & 0o777 : 0o644);
}
