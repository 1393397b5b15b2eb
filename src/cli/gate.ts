/**
 * `flotilla gate install <repo>` and `flotilla gate check`: the code gate's hooks and the check they run
 * (also usable on its own). The check fails closed: whatever goes wrong, the push is refused.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FlotillaError } from "../errors.ts";
import { daemonLink } from "../oversight/gate/daemon-link.ts";
import {
  absoluteRemote,
  checkPush,
  type GateOutcome,
  markFallbackCommit,
} from "../oversight/gate/gate-check.ts";
import { installHooks } from "../oversight/gate/hooks.ts";
import { currentBranchPush, parsePrePush } from "../oversight/gate/push-range.ts";
import { git } from "../oversight/git.ts";
import { type Command, type CommandInput, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";

const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));
const USAGE =
  'flotilla gate install <repo> [--force] [-c FILE] [--json] | check [<repo>] [--remote NAME] [--emergency "REASON"] [-c FILE] [--json]';
/** The environment variable that carries --emergency through `git push` to the hook. */
export const EMERGENCY_ENV = "FLOTILLA_GATE_EMERGENCY";

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

async function install(input: CommandInput): Promise<number> {
  const [repo, ...extra] = input.positionals.slice(1);
  if (!repo || extra.length > 0)
    throw new FlotillaError("FLOTILLA_E_USAGE", `name one repository; usage: ${USAGE}`);
  const loaded = loadForCli(input);
  const path = resolve(repo);
  const result = await installHooks(
    path,
    { node: process.execPath, bin: BIN, config: resolve(loaded.file) },
    input.values.force === true,
  );
  // Tell the daemon, so the push check flags pushes that skip the gate from now on (best effort: it may be down).
  let recorded = false;
  try {
    const remotes = (await git(path, ["remote"])).split("\n").filter(Boolean);
    const link = daemonLink({}, () => loaded.config.stateDir);
    for (const name of remotes) {
      const url = (await git(path, ["remote", "get-url", name])).trim();
      await link.post("/v1/gate/records", {
        kind: "installed",
        remote: absoluteRemote(url, path),
        shas: [],
        ref: null,
      });
      recorded = true;
    }
  } catch {
    recorded = false;
  }
  if (input.json) printJson({ repo: path, ...result, recorded });
  else {
    for (const hook of result.hooks)
      print(`${hook.name}: ${hook.action}${hook.backup ? ` (the old hook is kept as ${hook.backup})` : ""}`);
    print(
      recorded
        ? `the gate guards ${path}; pushes that skip it are flagged by oversight`
        : `the gate guards ${path}; the daemon was not told (not running?): it learns of the gate at the first push`,
    );
  }
  return 0;
}

function report(input: CommandInput, outcome: GateOutcome): number {
  if (input.json) {
    printJson(outcome);
    return outcome.ok ? 0 : 1;
  }
  if (!outcome.ok && outcome.refusal) {
    process.stderr.write(
      `flotilla gate: push refused (${outcome.refusal.rule}): ${outcome.refusal.reason}\n  to comply: ${outcome.refusal.comply}\n  in an emergency: ${EMERGENCY_ENV}="REASON" git push (recorded as a violation)\n`,
    );
    return 1;
  }
  if (outcome.emergency !== null)
    process.stderr.write(
      `flotilla gate: EMERGENCY push let through and recorded as a violation ("${outcome.emergency}")${outcome.refusal ? `; it would have been refused: ${outcome.refusal.reason}` : ""}\n`,
    );
  else process.stderr.write(`flotilla gate: push passes (${outcome.shas.length} commits recorded)\n`);
  return 0;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function check(input: CommandInput): Promise<number> {
  const hook = text(input.values.hook);
  const stateDir = () => loadForCli(input).config.stateDir;
  if (hook === "commit-msg") {
    // Only an agent's commits carry a tier; the operator's need no daemon.
    if (!process.env.FLOTILLA_AGENT_KEY) return 0;
    const [file] = input.positionals.slice(1);
    if (!file) throw new FlotillaError("FLOTILLA_E_USAGE", "commit-msg: git passes the message file");
    const marked = await markFallbackCommit(process.cwd(), file, daemonLink(process.env, stateDir));
    if (marked)
      process.stderr.write(
        "flotilla gate: written on a fallback model: Flotilla-Tier: fallback added; it needs a Reviewed-by: trailer before it can be pushed\n",
      );
    return 0;
  }
  const emergencyText = text(input.values.emergency) ?? process.env[EMERGENCY_ENV];
  if (emergencyText !== undefined && !emergencyText.trim())
    throw new FlotillaError("FLOTILLA_E_USAGE", '--emergency needs a reason: --emergency "WHY"');
  let cwd: string;
  let remoteName: string;
  let remoteUrl: string;
  let updates;
  if (hook === "pre-push") {
    const [name = "", url = ""] = input.positionals.slice(1);
    cwd = process.cwd();
    remoteName = name;
    remoteUrl = url || name;
    updates = parsePrePush(await readStdin());
  } else if (hook === undefined) {
    cwd = resolve(input.positionals[1] ?? ".");
    remoteName = text(input.values.remote) ?? "origin";
    remoteUrl = (await git(cwd, ["remote", "get-url", remoteName])).trim();
    updates = await currentBranchPush(cwd, remoteName);
  } else throw new FlotillaError("FLOTILLA_E_USAGE", `--hook is pre-push or commit-msg, not "${hook}"`);
  const outcome = await checkPush({
    cwd,
    remoteName,
    remoteUrl,
    updates,
    emergency: emergencyText ?? null,
    link: daemonLink(process.env, stateDir),
  });
  return report(input, outcome);
}

export const gateCommand: Command = {
  name: "gate",
  summary: "The code gate: install its git hooks in a clone, or check a push by its rules",
  usage: USAGE,
  options: {
    force: { type: "boolean" },
    remote: { type: "string" },
    emergency: { type: "string" },
    hook: { type: "string" },
  },
  async run(input) {
    const [action] = input.positionals;
    if (action === "install") return install(input);
    if (action !== "check")
      throw new FlotillaError("FLOTILLA_E_USAGE", `say install or check; usage: ${USAGE}`);
    try {
      return await check(input);
    } catch (err) {
      // Fail closed: a gate that cannot decide refuses, with why.
      const message = err instanceof Error ? err.message : String(err);
      if (input.json) printJson({ ok: false, refusal: null, error: message });
      else
        process.stderr.write(
          `flotilla gate: refused: the gate could not decide (${message}); fix that and try again\n`,
        );
      return 1;
    }
  },
};
