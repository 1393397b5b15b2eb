/**
 * The one path every config change takes from the CLI (`config apply`, `restore`): validate, show the plan,
 * ask, back up the running config, hand the change to the daemon, report. With no daemon running, the
 * change is written to the config file (backed up first) for the next `flotilla up`.
 */
import { connectDaemon } from "../api/client.ts";
import { readDaemonInfo } from "../api/daemon-files.ts";
import { checkFixedSections, readProposed, validateProposed } from "../migrations/apply-input.ts";
import { writeSide } from "../migrations/apply-journal.ts";
import { createBackup } from "../migrations/backups.ts";
import { type LoadedConfig, resolveConfig, validateConfigText } from "../config/load.ts";
import type { ApplyResult } from "../migrations/migrator.ts";
import { computePlan, type Plan, renderPlan } from "../migrations/plan.ts";
import { unifiedDiff } from "../migrations/unified-diff.ts";
import { FlotillaError } from "../errors.ts";
import { fleetWiring } from "../fleet/fleet-wiring.ts";
import { confirm } from "./confirm.ts";
import { failureDetails, failureLine, showProgress } from "./apply-report.ts";
import { print, printJson } from "./command.ts";

export interface MigrationInput {
  /** The live config (from -c), whose file the change is written to. */
  live: LoadedConfig;
  /** The proposed config text, and its name in messages (a file path, or "backup ID"). */
  text: string;
  source: string;
  /** Other files the change writes (a restore's constitution and managed files). */
  files?: Array<{ path: string; content: string }>;
  yes: boolean;
  json: boolean;
}

/** The text the fleet runs now: the daemon's, or the live file's when no daemon runs. */
export async function runningText(live: LoadedConfig): Promise<{ text: string; daemon: boolean }> {
  if (!readDaemonInfo(live.config.stateDir)) return { text: readProposed(live.file), daemon: false };
  const body = await connectDaemon(live.config.stateDir).get<{ text: string }>("/v1/config");
  return { text: body.text, daemon: true };
}

/** Validates a proposal against the running config and computes its plan; throws on any problem. */
export async function prepareMigration(live: LoadedConfig, text: string, source: string) {
  const next = validateProposed(text, source, live.file);
  const current = await runningText(live);
  const parsed = validateConfigText(current.text, live.file);
  const running = parsed.ok ? resolveConfig(parsed.config, live.file) : live;
  checkFixedSections(running, next, source);
  const plan = computePlan(
    { config: running.config, wiring: fleetWiring(running) },
    { config: next.config, wiring: fleetWiring(next) },
  );
  const diff = unifiedDiff(current.text, text, { from: `${live.file} (running)`, to: source });
  return { next, running, runningText: current.text, daemon: current.daemon, plan, diff };
}

/** Runs one migration end to end; returns the exit code. */
export async function runMigration(input: MigrationInput): Promise<number> {
  const { live } = input;
  const prepared = await prepareMigration(live, input.text, input.source);
  const { plan } = prepared;
  if (!input.json) print(`plan for ${input.source} → ${live.file}:\n${renderPlan(plan)}\n${prepared.diff}`);
  if (!input.yes) {
    const interactive = process.stdin.isTTY === true && !input.json;
    if (!interactive || !(await confirm("apply this plan? [y/N] "))) {
      const how = "nothing was applied; re-run with --yes to apply";
      if (input.json) printJson({ applied: false, plan, diff: prepared.diff, message: how });
      else print(how);
      return 0;
    }
  }
  const backup = createBackup({
    stateDir: live.config.stateDir,
    configFile: live.file,
    configText: prepared.runningText,
    config: prepared.running.config,
    reason: `before ${input.source}`,
    keep: prepared.running.config.migrations.keepBackups,
  });
  if (!prepared.daemon) return applyOffline(input, prepared.runningText, backup.id, plan);
  const client = connectDaemon(live.config.stateDir);
  const applying = client.post<ApplyResult>("/v1/config/apply", {
    loaded: prepared.next,
    wiring: fleetWiring(prepared.next),
    text: input.text,
    source: input.source,
    backupId: backup.id,
    files: input.files ?? [],
  });
  const result = input.json ? await applying : await showProgress(client, applying, process.stderr);
  if (input.json) printJson({ applied: result.outcome !== "rolled_back", backupId: backup.id, ...result });
  // With --json the result is on stdout and the error, as JSON, on stderr.
  if (result.outcome === "rolled_back") {
    if (!input.json) process.stderr.write(`${failureDetails(result)}\n`);
    throw new FlotillaError("FLOTILLA_E_APPLY_FAILED", failureLine(result));
  }
  if (!input.json) {
    const done = result.outcome === "unchanged" ? "nothing to change" : `applied (${result.id})`;
    print(`${done}; the previous config is backup ${backup.id}`);
  }
  return 0;
}

/** No daemon runs: write the files (they take effect at the next `flotilla up`). */
function applyOffline(input: MigrationInput, before: string, backupId: string, plan: Plan): number {
  const { live } = input;
  const files = [
    { path: live.file, before, after: input.text },
    ...(input.files ?? []).map((f) => ({ path: f.path, before: null, after: f.content })),
  ];
  writeSide(live.config.stateDir, files, "after");
  const message = `written to ${live.file}; no daemon runs, so "flotilla up" starts the fleet on it`;
  if (input.json) printJson({ applied: true, offline: true, backupId, plan, message });
  else print(`${message}; the previous config is backup ${backupId}`);
  return 0;
}
