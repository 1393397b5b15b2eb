/** Checks a fleet can start before anything starts: workspaces writable, commands found, ports free, secrets readable. */
import { accessSync, constants, statSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { AgentConfig } from "../config/schema.ts";
import { isSecretRef, resolveSecret } from "../config/secrets.ts";
import { FlotillaError } from "../errors.ts";
import { workspaceProblem } from "./workspace-check.ts";

const SHELL_WORDS = new Set([
  "exec",
  "cd",
  "export",
  "set",
  "ulimit",
  "umask",
  ".",
  "source",
  "env",
  "nice",
  "nohup",
  "time",
]);

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The program a command runs first, or undefined when the shell decides (builtins, variables, compound lines). */
export function firstProgram(command: AgentConfig["command"]): string | undefined {
  if (Array.isArray(command)) return command[0];
  const words = command
    .trim()
    .split(/\s+/)
    .filter((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
  const first = words[0];
  if (!first || SHELL_WORDS.has(first) || /[$`"'(){};|&<>]/.test(first)) return undefined;
  return first;
}

/** Resolves a program the way execvp would, against the PATH the agent gets. */
export function resolveProgram(program: string, cwd: string, path: string | undefined): string | undefined {
  if (program.includes("/")) {
    const full = isAbsolute(program) ? program : resolve(cwd, program);
    return isExecutable(full) ? full : undefined;
  }
  for (const dir of (path ?? "").split(delimiter)) {
    if (dir && isExecutable(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => done(true)));
  });
}

/** One line per problem; an empty list means the agent may start. */
export async function checkAgent(agent: AgentConfig, env: Record<string, string>): Promise<string[]> {
  const problems: string[] = [];
  const workspace = await workspaceProblem(agent.name, agent.workspace);
  if (workspace) problems.push(workspace);
  const program = firstProgram(agent.command);
  if (program !== undefined && resolveProgram(program, agent.workspace, env.PATH) === undefined) {
    problems.push(
      `agent ${agent.name}: command "${program}" was not found on the agent's PATH; install it or give its full path`,
    );
  }
  if (agent.port !== undefined && !(await portFree(agent.port))) {
    problems.push(
      `agent ${agent.name}: port ${agent.port} is already in use; stop what holds it or choose another port`,
    );
  }
  return problems;
}

/** One line per secret reference of the agent's env that cannot be read (all of them, not the first). */
export function secretProblems(agent: AgentConfig, env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(agent.env)) {
    if (!isSecretRef(value)) continue;
    try {
      resolveSecret(value, `agents.${agent.name}.env.${name}`, env);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}

/** The agent without its secret env entries, to check the rest when a secret is missing. */
export function withoutSecrets(agent: AgentConfig): AgentConfig {
  return { ...agent, env: Object.fromEntries(Object.entries(agent.env).filter(([, v]) => !isSecretRef(v))) };
}

/** Throws one FlotillaError naming every problem found. */
export function failPreflight(problems: string[]): void {
  if (problems.length > 0)
    throw new FlotillaError("FLOTILLA_E_PREFLIGHT", `${problems.join("\n")}\nnothing was started`);
}
