/**
 * The checks every proposed argv passes before its program's own rule looks at it: the shape (an array of
 * strings), shell metacharacters and control bytes, environment and config overrides, `..` segments. Each
 * returns the refusal reason or undefined; reasons name the rule so an operator can tell why.
 */

/** Longest argument and most arguments an action may have: a model's fix is a short command. */
export const MAX_ARG_LENGTH = 4096;
export const MAX_ARGS = 64;

/** Characters a shell would act on; refused everywhere, even though actions never run through a shell. */
const METACHARACTERS = new Set([...";|&$`<>(){}*?!~'\"\\"]);

/** Programs named in a refusal by what they are, so "not on the allowlist" says why it never will be. */
const FAMILIES: Array<[family: string, programs: string[]]> = [
  ["shell", ["sh", "bash", "dash", "zsh", "ksh", "fish", "csh", "tcsh", "busybox", "eval", "exec", "source"]],
  ["environment override", ["env", "export", "printenv"]],
  [
    "privilege change",
    ["sudo", "su", "doas", "pkexec", "runuser", "setpriv", "nsenter", "unshare", "chroot"],
  ],
  [
    "network tool",
    ["curl", "wget", "nc", "ncat", "netcat", "socat", "ssh", "scp", "sftp", "rsync", "telnet", "ftp", "git"],
  ],
  [
    "package install",
    ["apt", "apt-get", "dpkg", "snap", "yum", "dnf", "rpm", "npm", "npx", "pnpm", "yarn", "pip", "pip3"],
  ],
  ["package install", ["pipx", "gem", "cargo", "go", "brew", "apk", "pacman", "corepack"]],
  ["permission change", ["chmod", "chown", "chgrp", "chattr", "setfacl", "umask", "usermod", "passwd"]],
  [
    "file writer",
    ["tee", "dd", "cp", "mv", "ln", "install", "sed", "truncate", "sort", "touch", "mkdir", "rmdir", "shred"],
  ],
  ["command runner", ["xargs", "find", "nohup", "timeout", "nice", "setsid", "watch", "parallel", "crontab"]],
  ["command runner", ["at", "systemd-run", "script", "stdbuf", "flock", "kill", "pkill", "killall"]],
  [
    "interpreter",
    ["python", "python3", "perl", "ruby", "node", "php", "lua", "awk", "gawk", "tclsh", "deno"],
  ],
];

const FAMILY_OF = new Map(FAMILIES.flatMap(([family, programs]) => programs.map((p) => [p, family])));

/** "shell", "network tool"…, or undefined for a program of no known family. */
export function familyOf(program: string): string | undefined {
  return FAMILY_OF.get(program);
}

/** Describes a value that is not a string, for a refusal: "number", "null", "array", "object". */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** A printable form of one argument for a reason: control bytes escaped, long ones cut. */
export function show(arg: string): string {
  const printable = arg.replace(/[\p{Cc}]/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return JSON.stringify(printable.length > 80 ? `${printable.slice(0, 77)}...` : printable);
}

/** Shape: an array of 1..MAX_ARGS strings of at most MAX_ARG_LENGTH characters each. */
export function shapeProblem(argv: readonly unknown[]): string | undefined {
  if (argv.length === 0) return "empty argv: an action names a program";
  if (argv.length > MAX_ARGS) return `argv has ${argv.length} arguments, at most ${MAX_ARGS}`;
  for (const [index, arg] of argv.entries()) {
    if (typeof arg !== "string")
      return `argv[${index}] is ${kindOf(arg)}, not a string: an argv holds strings only`;
    if (arg.length === 0) return `argv[${index}] is empty`;
    if (arg.length > MAX_ARG_LENGTH)
      return `argv[${index}] is ${arg.length} characters, at most ${MAX_ARG_LENGTH}`;
  }
  return undefined;
}

/** Shell metacharacters, quotes, backslashes and control bytes (newline, NUL…) in any argument. */
export function metacharacterProblem(argv: readonly string[]): string | undefined {
  for (const [index, arg] of argv.entries()) {
    for (const char of arg) {
      const code = char.charCodeAt(0);
      if (code < 0x20 || code === 0x7f)
        return `control byte \\x${code.toString(16).padStart(2, "0")} in argv[${index}]: actions never run through a shell, and no argument needs one`;
      if (METACHARACTERS.has(char))
        return `shell metacharacter ${JSON.stringify(char)} in argv[${index}] ${show(arg)}: actions never run through a shell, and no argument needs one`;
    }
  }
  return undefined;
}

/** `FOO=bar cmd`, `env …`, `--env …` anywhere: an action gets the watchdog's clean environment, nothing else. */
export function environmentProblem(argv: readonly string[]): string | undefined {
  const [program = ""] = argv;
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(program))
    return `environment override ${show(program)}: actions run with the watchdog's clean environment`;
  if (program === "env")
    return "environment override: env is not allowed; actions run with the watchdog's clean environment";
  const index = argv.findIndex((arg) => arg === "--env" || arg.startsWith("--env="));
  if (index >= 0) return `environment override: ${show(argv[index] ?? "")} in argv[${index}] is not allowed`;
  return undefined;
}

/** `-c`, `--config`, `--state-dir` given to flotilla by the model: the policy adds the live config's `-c` itself. */
export function configOverrideProblem(argv: readonly string[]): string | undefined {
  if (argv[0] !== "flotilla") return undefined;
  for (const [index, arg] of argv.entries()) {
    if (index === 0) continue;
    if (/^-c/.test(arg) || /^--(config|state-dir)(=|$)/.test(arg))
      return `config override: ${show(arg)} in argv[${index}] is not allowed; the watchdog adds -c with the live config itself`;
  }
  return undefined;
}

/** A `..` path segment in any argument: traversal is refused before any path is even resolved. */
export function traversalProblem(argv: readonly string[]): string | undefined {
  const index = argv.findIndex((arg) => arg.split(/[/=]/).includes(".."));
  if (index < 0) return undefined;
  return `path traversal: ${show(argv[index] ?? "")} in argv[${index}] has a ".." segment`;
}
