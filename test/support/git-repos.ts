/** Test helpers for real git repositories: a bare remote on disk, clones, commits at chosen times. */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The environment for git in tests: a fixed identity, no global config, none of a hook's GIT_* variables. */
export function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("GIT_")) env[name] = value;
  return {
    ...env,
    GIT_AUTHOR_NAME: "Test Agent",
    GIT_AUTHOR_EMAIL: "agent@example.test",
    GIT_COMMITTER_NAME: "Test Agent",
    GIT_COMMITTER_EMAIL: "agent@example.test",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    ...extra,
  };
}

/** Runs git and returns its stdout; throws with stderr on failure. */
export function gitIn(cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}): string {
  return execFileSync("git", args, {
    cwd,
    env: gitEnv(extra),
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** A bare repository at `path` whose default branch is main. */
export function bareRepo(path: string): string {
  mkdirSync(path, { recursive: true });
  gitIn(path, ["init", "--quiet", "--bare", "--initial-branch=main"]);
  return path;
}

/** A clone of `remote` at `path` (an empty remote gives an empty clone on main). */
export function cloneOf(remote: string, path: string): string {
  gitIn(dirname(path), ["clone", "--quiet", remote, path]);
  gitIn(path, ["checkout", "--quiet", "-B", "main"]);
  return path;
}

/** A work tree (not a clone) at `path` on main. */
export function workTree(path: string): string {
  mkdirSync(path, { recursive: true });
  gitIn(path, ["init", "--quiet", "--initial-branch=main"]);
  return path;
}

/** Writes `files` (path → content), commits them all with `message`; `at` sets both dates (ms). Returns the sha. */
export function commit(cwd: string, files: Record<string, string>, message: string, at?: number): string {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(cwd, file)), { recursive: true });
    writeFileSync(join(cwd, file), content);
  }
  const date =
    at === undefined
      ? {}
      : {
          GIT_AUTHOR_DATE: `@${Math.floor(at / 1000)} +0000`,
          GIT_COMMITTER_DATE: `@${Math.floor(at / 1000)} +0000`,
        };
  gitIn(cwd, ["add", "-A"]);
  gitIn(cwd, ["commit", "--quiet", "--allow-empty", "-m", message], date);
  return gitIn(cwd, ["rev-parse", "HEAD"]).trim();
}

/** Source files of `count` small functions each, indented with `indent`. */
export function sourceFiles(count: number, indent: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++)
    files[`src/module-${i}.js`] =
      `export function f${i}(a, b) {\n${indent}const sum = a + b;\n${indent}if (sum > ${i}) {\n${indent}${indent}return sum;\n${indent}}\n${indent}return ${i};\n}\n`;
  return files;
}
