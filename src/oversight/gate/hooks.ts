/**
 * `flotilla gate install`: writes the pre-push and commit-msg hooks that run `flotilla gate check`.
 * A hook that is not ours is left alone unless forced (then kept beside it as HOOK.before-flotilla);
 * installing again rewrites ours in place, so it is idempotent.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { FlotillaError } from "../../errors.ts";
import { git } from "../git.ts";

/** The line that marks a hook as ours. */
export const HOOK_MARK =
  "# flotilla-gate: installed by `flotilla gate install`; do not edit (install again instead)";
export const HOOKS = ["pre-push", "commit-msg"] as const;

export interface HookCommand {
  /** The Node binary and Flotilla's bin, as absolute paths. */
  node: string;
  bin: string;
  /** The fleet's config file, absolute (for a push by the operator, who has no agent key). */
  config: string;
}

const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

/** The hook's text: sh that execs the gate; any failure to start it is a non-zero exit, so git refuses. */
export function hookText(hook: (typeof HOOKS)[number], command: HookCommand): string {
  return [
    "#!/bin/sh",
    HOOK_MARK,
    `exec ${quote(command.node)} ${quote(command.bin)} gate check --hook ${hook} -c ${quote(command.config)} "$@"`,
    "",
  ].join("\n");
}

export interface InstallResult {
  hooksDir: string;
  hooks: Array<{ name: string; action: "installed" | "updated" | "unchanged" | "replaced"; backup?: string }>;
}

/** Installs both hooks in the repository at `repo` (a work tree); refuses a foreign hook unless `force`. */
export async function installHooks(
  repo: string,
  command: HookCommand,
  force: boolean,
): Promise<InstallResult> {
  let hooksDir: string;
  try {
    hooksDir = (await git(repo, ["rev-parse", "--git-path", "hooks"])).trim();
  } catch {
    throw new FlotillaError(
      "FLOTILLA_E_USAGE",
      `${repo} is not a git repository; name the clone agents push from`,
    );
  }
  if (!isAbsolute(hooksDir)) hooksDir = join(repo, hooksDir);
  const plan = HOOKS.map((name) => {
    const file = join(hooksDir, name);
    const text = hookText(name, command);
    const current = existsSync(file) ? readFileSync(file, "utf8") : null;
    return { name, file, text, current, ours: current?.includes(HOOK_MARK) ?? false };
  });
  const foreign = plan.filter((hook) => hook.current !== null && !hook.ours);
  if (foreign.length > 0 && !force)
    throw new FlotillaError(
      "FLOTILLA_E_USAGE",
      `${foreign.map((h) => h.file).join(" and ")} already exist and are not Flotilla's; merge them by hand, or install with --force (they are kept as HOOK.before-flotilla)`,
    );
  mkdirSync(hooksDir, { recursive: true });
  const hooks: InstallResult["hooks"] = [];
  for (const hook of plan) {
    if (hook.current === hook.text) {
      hooks.push({ name: hook.name, action: "unchanged" });
      continue;
    }
    let backup: string | undefined;
    if (hook.current !== null && !hook.ours) {
      backup = `${hook.file}.before-flotilla`;
      renameSync(hook.file, backup);
    }
    writeFileSync(hook.file, hook.text);
    chmodSync(hook.file, 0o755);
    hooks.push({
      name: hook.name,
      action: backup ? "replaced" : hook.current === null ? "installed" : "updated",
      ...(backup ? { backup } : {}),
    });
  }
  return { hooksDir, hooks };
}
