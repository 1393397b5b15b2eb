/**
 * What a check reads of agents' transcripts in one run: per agent, the text added since the same check
 * last committed its cursors, bounded by a byte limit, with any source that cannot be read as a problem.
 */
import type { AgentConfig, FlotillaConfig } from "../../config/schema.ts";
import { type Cursor, type Mark, type ReaderState, readReaderState, saveReaderState } from "./cursors.ts";
import { readSource, transcriptSources } from "./sources.ts";

export interface NewTranscript {
  agent: string;
  /** The new lines of every source of the agent, in source order. */
  text: string;
  bytes: number;
  /** More was there than the limit; the rest waits for the next run. */
  truncated: boolean;
  /** Sources that could not be read, each in one sentence that names the file. */
  problems: string[];
  /** The agent has at least one transcript source. */
  hasSource: boolean;
}

/** A reader's view of new transcript text; `commit` saves how far it got for the agents it handled. */
export interface TranscriptReader {
  read(agent: AgentConfig, limit: number): NewTranscript;
  /** Saves the cursors of these agents' last reads (a check skips agents it could not handle). */
  commit(agents: readonly string[]): void;
  /** This reader's own marks (such as the time of an agent's last claim), saved with the cursors. */
  marks: Record<string, Mark>;
}

export function transcriptReader(config: FlotillaConfig, reader: string): TranscriptReader {
  const state: ReaderState = readReaderState(config.stateDir, reader);
  const pending = new Map<string, Record<string, Cursor>>();
  return {
    marks: state.marks,
    read(agent, limit) {
      const sources = transcriptSources(config, agent);
      const texts: string[] = [];
      const problems: string[] = [];
      const cursors: Record<string, Cursor> = {};
      let bytes = 0;
      let truncated = false;
      for (const source of sources) {
        const left = Math.max(0, limit - bytes);
        if (left === 0) {
          truncated = true;
          break;
        }
        const result = readSource(source, state.cursors[source.id], left);
        if (!result.ok) {
          problems.push(result.problem);
          if (result.cursor) cursors[source.id] = result.cursor;
          continue;
        }
        cursors[source.id] = result.window.cursor;
        bytes += result.window.bytes;
        truncated ||= result.window.truncated;
        if (result.window.text !== "") texts.push(result.window.text);
      }
      pending.set(agent.name, cursors);
      return {
        agent: agent.name,
        text: texts.join("\n"),
        bytes,
        truncated,
        problems,
        hasSource: sources.length > 0,
      };
    },
    commit(agents) {
      for (const agent of agents) Object.assign(state.cursors, pending.get(agent) ?? {});
      saveReaderState(config.stateDir, reader, state);
    },
  };
}
