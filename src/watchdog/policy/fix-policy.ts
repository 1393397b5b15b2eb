/**
 * The fix policy: which of a diagnosis's proposed argv arrays may run. Every argument is checked, not just
 * the program; anything not matched by one rule below is refused with a reason naming what refused it.
 * Pure but for reading the file system (symlinks, file kinds); never throws, whatever the model sent.
 */
import { fileURLToPath } from "node:url";
import type { PolicyDecision } from "../types.ts";
import {
  configOverrideProblem,
  environmentProblem,
  familyOf,
  kindOf,
  metacharacterProblem,
  shapeProblem,
  show,
  traversalProblem,
} from "./argv-checks.ts";
import { backupConfigCopy, removableFile } from "./state-paths.ts";

export interface PolicyContext {
  /** Absolute. */
  stateDir: string;
  /** Absolute: the live config, added as `-c` to every flotilla action. */
  configFile: string;
  /** Agent names, plus "gateway" when providers exist. */
  agents: string[];
  /** Flotilla's own systemd --user unit names. */
  units: string[];
  /** Backup ids under <stateDir>/backups, plus "last-known-good". */
  backups: string[];
  /** watchdog.extras: args are regex sources matched against the whole argument. */
  extras: Array<{ program: string; args: string[] }>;
  maxActions: number;
}

type Allowed = Extract<PolicyDecision, { allowed: true }>;
type Verdict = { rule: string; argv?: string[] } | string;

/** bin/flotilla.js of this install: a `flotilla` action runs this very version with this Node. */
const FLOTILLA_BIN = fileURLToPath(new URL("../../../bin/flotilla.js", import.meta.url));

const SYSTEMCTL_VERBS = new Set(["start", "restart", "stop", "reset-failed"]);

/** Agent control: `flotilla start|restart AGENT... [--yes]` (--yes for restart only). */
function agentControl(verb: string, rest: string[], ctx: PolicyContext): Verdict {
  const flags = rest.filter((a) => a.startsWith("-"));
  const names = rest.filter((a) => !a.startsWith("-"));
  const badFlag = flags.find((f) => f !== "--yes" || verb === "start");
  if (badFlag !== undefined)
    return `flotilla ${verb}: option ${show(badFlag)} is not allowed${verb === "restart" ? " (only --yes)" : ""}`;
  if (flags.length > 1) return `flotilla ${verb}: --yes given twice`;
  if (names.length === 0)
    return `flotilla ${verb}: name at least one agent (${ctx.agents.join(", ") || "none"})`;
  const unknown = names.find((n) => !ctx.agents.includes(n));
  if (unknown !== undefined)
    return `flotilla ${verb}: unknown agent ${show(unknown)} (agents: ${ctx.agents.join(", ") || "none"})`;
  return { rule: `flotilla ${verb} AGENT` };
}

/** `flotilla restore ID --yes`: a listed backup or last-known-good, through the migration path. */
function restore(rest: string[], ctx: PolicyContext): Verdict {
  const [id, yes, ...more] = rest;
  if (id === undefined || yes !== "--yes" || more.length > 0 || id.startsWith("-"))
    return "flotilla restore: only `flotilla restore ID --yes` is allowed";
  if (!ctx.backups.includes(id))
    return `flotilla restore: no backup ${show(id)} (backups: ${ctx.backups.join(", ") || "none"})`;
  return { rule: "flotilla restore BACKUP --yes" };
}

/** `flotilla config apply FILE --yes`, FILE a config copy inside <stateDir>/backups. */
function configApply(rest: string[], ctx: PolicyContext): Verdict {
  const [action, file, yes, ...more] = rest;
  if (action !== "apply")
    return `flotilla config ${show(action ?? "")}: only config apply of a backup's config copy is allowed`;
  if (file === undefined || yes !== "--yes" || more.length > 0 || file.startsWith("-"))
    return "flotilla config apply: only `flotilla config apply FILE --yes` is allowed";
  const copy = backupConfigCopy(file, ctx.stateDir);
  if (typeof copy === "string") return copy;
  return {
    rule: "flotilla config apply BACKUP-COPY --yes",
    argv: ["flotilla", "config", "apply", copy.real, "--yes"],
  };
}

function flotilla(argv: string[], ctx: PolicyContext): Verdict {
  const [, sub = "", ...rest] = argv;
  if (sub === "start" || sub === "restart") return agentControl(sub, rest, ctx);
  if (sub === "restore") return restore(rest, ctx);
  if (sub === "config") return configApply(rest, ctx);
  return `flotilla ${show(sub)} is not an allowed subcommand (allowed: start, restart, restore, config apply)`;
}

function systemctl(argv: string[], ctx: PolicyContext): Verdict {
  const [, scope, verb = "", unit = "", ...more] = argv;
  if (scope !== "--user" || more.length > 0)
    return "systemctl: only `systemctl --user VERB UNIT` on one of Flotilla's own units is allowed";
  if (!SYSTEMCTL_VERBS.has(verb))
    return `systemctl: verb ${show(verb)} is not allowed (allowed: ${[...SYSTEMCTL_VERBS].join(", ")})`;
  if (!ctx.units.includes(unit))
    return `systemctl: ${show(unit)} is not one of Flotilla's units (${ctx.units.join(", ") || "none"})`;
  return { rule: `systemctl --user ${verb} UNIT` };
}

function rm(argv: string[], ctx: PolicyContext): Verdict {
  const rest = argv.slice(1);
  const flags = rest.filter((a) => a.startsWith("-"));
  const paths = rest.filter((a) => !a.startsWith("-"));
  if (flags.some((f) => f !== "-f") || flags.length > 1 || paths.length !== 1)
    return "rm: only `rm [-f] PATH` of one stale .lock or .pid file in the state dir is allowed (no -r, no globs)";
  const file = removableFile(paths[0] ?? "", ctx.stateDir);
  if (typeof file === "string") return file;
  return { rule: "rm stale lock/pid file", argv: ["rm", ...flags, file.real] };
}

/** Whether `arg` matches the operator's pattern wholly; an invalid pattern matches nothing. */
function wholly(pattern: string, arg: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`, "u").test(arg);
  } catch {
    return false;
  }
}

function extra(argv: string[], ctx: PolicyContext): Verdict | undefined {
  const [program, ...args] = argv;
  const same = ctx.extras.filter((e) => e.program === program);
  if (same.length === 0) return undefined;
  const index = ctx.extras.findIndex(
    (e) =>
      e.program === program &&
      e.args.length === args.length &&
      e.args.every((p, i) => wholly(p, args[i] ?? "")),
  );
  if (index >= 0) return { rule: `watchdog.extras[${index}] ${program}` };
  return `${show(program ?? "")}: its arguments match no watchdog.extras entry for it (same count, each pattern matching the whole argument)`;
}

const ALLOWLIST = "flotilla, systemctl --user, rm of a stale lock, watchdog.extras";

/** A shell, a network tool, a package manager…: named by its family, whatever its arguments. */
function familyProblem(argv: string[]): string | undefined {
  const family = familyOf(argv[0] ?? "");
  return family
    ? `${family}: ${show(argv[0] ?? "")} is not on the fix policy's allowlist (${ALLOWLIST})`
    : undefined;
}

function unlisted(program: string): string {
  if (program.includes("/"))
    return `program ${show(program)} is a path: name flotilla, systemctl or rm, or list the program in watchdog.extras`;
  return `${show(program)} is not on the fix policy's allowlist (${ALLOWLIST})`;
}

/** One action: the generic checks, then its program's rule. */
function judgeOne(raw: unknown, ctx: PolicyContext): PolicyDecision {
  const candidate =
    raw !== null && typeof raw === "object" && !Array.isArray(raw) && "argv" in raw ? raw.argv : raw;
  if (!Array.isArray(candidate))
    return {
      allowed: false,
      argv: [],
      reason: `the action is ${kindOf(candidate)}, not an argv array of strings`,
    };
  const shown = candidate.map((a: unknown) => (typeof a === "string" ? a : `<${kindOf(a)}>`));
  const argv = candidate as string[];
  const problem =
    shapeProblem(candidate) ??
    metacharacterProblem(argv) ??
    environmentProblem(argv) ??
    familyProblem(argv) ??
    configOverrideProblem(argv) ??
    traversalProblem(argv);
  if (problem) return { allowed: false, argv: shown, reason: problem };
  const program = argv[0] ?? "";
  let verdict = extra(argv, ctx);
  if (verdict === undefined) {
    if (program === "flotilla") verdict = flotilla(argv, ctx);
    else if (program === "systemctl") verdict = systemctl(argv, ctx);
    else if (program === "rm") verdict = rm(argv, ctx);
    else verdict = unlisted(program);
  }
  if (typeof verdict === "string") return { allowed: false, argv: shown, reason: verdict };
  return { allowed: true, argv: verdict.argv ?? [...argv], rule: verdict.rule };
}

/** The policy's decision on each proposed action, in order; a list over maxActions is refused whole. */
export function judgeProposal(actions: unknown, ctx: PolicyContext): PolicyDecision[] {
  try {
    if (!Array.isArray(actions))
      return [
        { allowed: false, argv: [], reason: `the proposal is ${kindOf(actions)}, not a list of actions` },
      ];
    if (actions.length > ctx.maxActions) {
      const reason = `${actions.length} actions proposed, at most ${ctx.maxActions}`;
      return actions.map((a: unknown) => ({
        allowed: false,
        argv: Array.isArray(a) ? a.map((x: unknown) => (typeof x === "string" ? x : `<${kindOf(x)}>`)) : [],
        reason,
      }));
    }
    return actions.map((a: unknown) => judgeOne(a, ctx));
  } catch (err) {
    // Nothing above should throw (getters on a hostile object could): refuse rather than fail the run.
    return [
      { allowed: false, argv: [], reason: `the proposal could not be read (${String(err).slice(0, 200)})` },
    ];
  }
}

/**
 * The argv to spawn for an allowed decision: "flotilla" becomes this Node and this install's bin/flotilla.js,
 * with `-c <configFile>` appended; other programs run as decided (their paths already resolved).
 */
export function commandFor(decision: Allowed, ctx: PolicyContext): string[] {
  const [program = "", ...args] = decision.argv;
  if (program === "flotilla") return [process.execPath, FLOTILLA_BIN, ...args, "-c", ctx.configFile];
  return [program, ...args];
}
