/** Finds, parses and validates flotilla.yaml; returns a frozen config with absolute paths, or names every wrong field. */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { type Document, isMap, isScalar, LineCounter, parseDocument, visit, type YAMLError } from "yaml";
import type { z } from "zod";
import { FlotillaError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import { configIssues, configJsonSchema, configSchema, type FlotillaConfig, RETIRED_KEYS } from "./schema.ts";

/** One validation problem, positioned in the file. */
export interface ConfigProblem {
  file: string;
  line: number;
  /** For a YAML syntax error: the column where it starts. */
  column?: number;
  path: string;
  message: string;
}

export interface LoadedConfig {
  file: string;
  config: FlotillaConfig;
}

/** Config is found from --config, then FLOTILLA_CONFIG, then ./flotilla.yaml. */
export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? env.FLOTILLA_CONFIG ?? "flotilla.yaml";
  const file = resolve(chosen);
  if (!existsSync(file)) {
    const from = explicit ? "--config" : env.FLOTILLA_CONFIG ? "FLOTILLA_CONFIG" : "the current directory";
    throw new FlotillaError(
      "FLOTILLA_E_CONFIG_NOT_FOUND",
      `${file}: no config file (from ${from}); run "flotilla init" to write one, or pass -c FILE`,
    );
  }
  return file;
}

/** Validates YAML text; returns the config or every problem found, each with its line. */
export function validateConfigText(
  text: string,
  file: string,
): { ok: true; config: FlotillaConfig } | { ok: false; problems: ConfigProblem[] } {
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  let data: unknown;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      return {
        ok: false,
        problems: doc.errors.map((err) => {
          const at = lineCounter.linePos(errorStart(doc, err));
          return {
            file,
            line: at.line,
            column: at.col,
            path: "(yaml)",
            message: `${err.message.split("\n")[0]}; fix the YAML syntax`,
          };
        }),
      };
    }
    data = doc.toJS();
  } catch (err) {
    // The parser's own limits (an alias bomb, nesting too deep) surface as exceptions, not errors.
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    return {
      ok: false,
      problems: [
        {
          file,
          line: 1,
          path: "(yaml)",
          message: `cannot be read as YAML (${reason}); simplify the document`,
        },
      ],
    };
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return {
      ok: false,
      problems: [{ file, line: 1, path: "(root)", message: 'must be a mapping; start with "version: 1"' }],
    };
  }
  const result = configSchema.safeParse(data);
  if (result.success) return { ok: true, config: result.data };
  /** The line of a key itself (an unknown key's value may start on the next line). */
  const keyLineOf = (path: PropertyKey[], key: string): number => {
    const parent = doc.getIn(path as unknown[], true);
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === key);
      const range = isScalar(pair?.key) ? pair.key.range : undefined;
      if (range) return lineCounter.linePos(range[0]).line;
    }
    return lineOf([...path, key]);
  };
  const lineOf = (path: PropertyKey[]): number => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as unknown[], true);
      const range =
        isScalar(node) || isMap(node) ? node.range : (node as { range?: [number] } | undefined)?.range;
      if (range) return lineCounter.linePos(range[0]).line;
      const parent = doc.getIn(path.slice(0, depth - 1) as unknown[], true);
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === path[depth - 1]);
        const keyRange = isScalar(pair?.key) ? pair.key.range : undefined;
        if (keyRange) return lineCounter.linePos(keyRange[0]).line;
      }
    }
    return 1;
  };
  const isMissing = (path: PropertyKey[]) => doc.getIn(path as unknown[]) === undefined;
  const problems = result.error.issues.map((issue) =>
    toProblem(issue, file, { lineOf, keyLineOf }, isMissing),
  );
  // A field of the wrong type stops zod before the whole-config checks: run them on the raw document.
  const seen = new Set(problems.map((p) => `${p.path}\n${p.message}`));
  for (const issue of configIssues(data)) {
    const problem: ConfigProblem = {
      file,
      line: lineOf(issue.path),
      path: issue.path.map(String).join("."),
      message: issue.message,
    };
    if (!seen.has(`${problem.path}\n${problem.message}`)) problems.push(problem);
  }
  return { ok: false, problems };
}

/**
 * Where a YAML syntax error starts: an unclosed quote is reported where the parser gave up (often lines
 * later), so it points at the quote that was opened instead.
 */
function errorStart(doc: Document.Parsed, err: YAMLError): number {
  const at = err.pos[0];
  let start = at;
  visit(doc, {
    Scalar(_key, node) {
      const quoted = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE";
      if (quoted && node.range && node.range[0] <= at && node.range[1] >= at) start = node.range[0];
    },
  });
  return start;
}

/** Every key name the schema knows, anywhere (for "did you mean" on an unknown key). */
let knownKeys: string[] | undefined;
function schemaKeys(): string[] {
  if (knownKeys) return knownKeys;
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "properties" && value && typeof value === "object")
        for (const name of Object.keys(value)) names.add(name);
      walk(value);
    }
  };
  walk(configJsonSchema());
  knownKeys = [...names];
  return knownKeys;
}

function toProblem(
  issue: z.core.$ZodIssue,
  file: string,
  lines: { lineOf: (path: PropertyKey[]) => number; keyLineOf: (path: PropertyKey[], key: string) => number },
  isMissing: (path: PropertyKey[]) => boolean,
): ConfigProblem {
  const { lineOf } = lines;
  const path = issue.path.map(String).join(".") || "(root)";
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    const hints = issue.keys.map((key) =>
      RETIRED_KEYS[key]
        ? `"${key}" is retired: ${RETIRED_KEYS[key]}`
        : `unknown key "${key}"${didYouMean(key, schemaKeys())}; remove it or check its spelling`,
    );
    message = hints.join("; ");
    const first = issue.keys[0];
    const line = first === undefined ? lineOf(issue.path) : lines.keyLineOf(issue.path, first);
    return { file, line, path, message };
  }
  if (isMissing(issue.path)) {
    message = `is required; see "flotilla schema" for what to write`;
  } else if (issue.code === "invalid_union") {
    message = `${message}; see "flotilla schema" for the accepted shapes`;
  }
  return { file, line: lineOf(issue.path), path, message };
}

/** Formats problems as `file:line: path: message`, one per line. */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems
    .map((p) => `${p.file}:${p.line}${p.column === undefined ? "" : `:${p.column}`}: ${p.path}: ${p.message}`)
    .join("\n");
}

function expandPath(path: string, base: string): string {
  if (path === "~" || path.startsWith("~/")) return join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(base, path);
}

/** Loads and validates a config file; relative paths resolve against the file's folder. The result is frozen. */
export function loadConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new FlotillaError(
      "FLOTILLA_E_CONFIG_NOT_FOUND",
      `${file}: cannot read the config file; check the path`,
      {
        cause,
      },
    );
  }
  const result = validateConfigText(text, file);
  if (!result.ok) throw new FlotillaError("FLOTILLA_E_CONFIG_INVALID", formatProblems(result.problems));
  return resolveConfig(result.config, file);
}

/** Resolves a validated config's paths against `file`'s folder and freezes it. */
export function resolveConfig(config: FlotillaConfig, file: string): LoadedConfig {
  const base = dirname(file);
  config.stateDir = expandPath(config.stateDir, base);
  config.constitution.articles = expandPath(config.constitution.articles, base);
  const isolation = config.isolation;
  isolation.writable = isolation.writable.map((path) => expandPath(path, base));
  isolation.readable = isolation.readable.map((path) => expandPath(path, base));
  for (const agent of config.agents) {
    agent.workspace = expandPath(agent.workspace, base);
    if (agent.isolation) {
      agent.isolation.writable = agent.isolation.writable.map((path) => expandPath(path, base));
      agent.isolation.readable = agent.isolation.readable.map((path) => expandPath(path, base));
    }
    for (const value of Object.values(agent.env))
      if (typeof value === "object" && "file" in value) value.file = expandPath(value.file, base);
  }
  const transcripts = config.oversight.transcripts;
  for (const [agent, path] of Object.entries(transcripts)) transcripts[agent] = expandPath(path, base);
  // Secret files are read by other processes with other working folders: make their paths absolute.
  for (const provider of config.providers) {
    for (const key of provider.keys) if ("file" in key) key.file = expandPath(key.file, base);
    const secret = provider.auth?.clientSecret;
    if (secret && "file" in secret) secret.file = expandPath(secret.file, base);
  }
  for (const channel of config.alerts) {
    if (channel.path !== undefined) channel.path = expandPath(channel.path, base);
    for (const ref of [channel.url, channel.token])
      if (ref && "file" in ref) ref.file = expandPath(ref.file, base);
  }
  const injectToken = config.oversight.inject.token;
  if (injectToken && "file" in injectToken) injectToken.file = expandPath(injectToken.file, base);
  for (const repo of config.repos) {
    repo.path = expandPath(repo.path, base);
    const token = repo.ci?.token;
    if (token && "file" in token) token.file = expandPath(token.file, base);
  }
  return { file, config: deepFreeze(config) };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
