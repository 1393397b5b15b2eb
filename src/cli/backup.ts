/** `flotilla backup` and `flotilla restore [ID] [--yes]`: restores go through the same migration path as `config apply`. */
import { validateProposed } from "../migrations/apply-input.ts";
import { createBackup, listBackups, readBackup } from "../migrations/backups.ts";
import { readLastKnownGood } from "../migrations/last-known-good.ts";
import { findConfigFile, type LoadedConfig, loadConfig } from "../config/load.ts";
import { FlotillaError, isFlotillaError } from "../errors.ts";
import { type Command, type CommandInput, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";
import { runMigration, runningText } from "./migration.ts";

export const backupCommand: Command = {
  name: "backup",
  summary: "Back up the running config, the constitution and the managed files",
  usage: "flotilla backup [-c FILE] [--json]",
  async run(input) {
    const live = loadForCli(input);
    const manifest = createBackup({
      stateDir: live.config.stateDir,
      configFile: live.file,
      configText: (await runningText(live)).text,
      config: live.config,
      reason: "flotilla backup",
      keep: live.config.migrations.keepBackups,
    });
    if (input.json) printJson(manifest);
    else print(`backup ${manifest.id}: ${manifest.files.length} files`);
    return 0;
  },
};

/** A backup by id ("last-known-good" resolved): its id, its config text and its other files. */
function openBackup(stateDir: string, id: string) {
  let backupId = id;
  if (id === "last-known-good") {
    const lkg = readLastKnownGood(stateDir);
    if (!lkg)
      throw new FlotillaError(
        "FLOTILLA_E_BACKUP_NOT_FOUND",
        "no last known good config yet; the fleet must run healthy for migrations.lastKnownGoodAfter first",
      );
    backupId = lkg.backupId;
  }
  const { manifest, contents } = readBackup(stateDir, backupId);
  const configEntry = manifest.files.find((f) => f.role === "config");
  const text = configEntry ? contents.get(configEntry.path) : undefined;
  if (text === undefined)
    throw new FlotillaError("FLOTILLA_E_BACKUP_NOT_FOUND", `backup ${backupId} holds no config file`);
  const files = manifest.files
    .filter((f) => f.role !== "config")
    .map((f) => ({ path: f.path, content: contents.get(f.path) ?? "" }));
  return { backupId, text, files };
}

/** Restores a backup (or "last-known-good") through the migration path. */
export function restoreBackup(
  live: LoadedConfig,
  id: string,
  options: { yes: boolean; json: boolean },
): Promise<number> {
  const { backupId, text, files } = openBackup(live.config.stateDir, id);
  return runMigration({ live, text, source: `backup ${backupId}`, files, ...options });
}

/**
 * The live config for a restore. When the live file does not validate (the case a restore is for),
 * `--state-dir` names where the backups are, and the backup's own config stands in for it.
 */
function liveForRestore(input: CommandInput, id: string | undefined): LoadedConfig {
  const file = findConfigFile(input.config);
  const stateDir = input.values["state-dir"];
  try {
    return loadConfig(file);
  } catch (err) {
    if (!isFlotillaError(err) || err.code !== "FLOTILLA_E_CONFIG_INVALID") throw err;
    if (typeof stateDir !== "string" || !id) {
      throw new FlotillaError(
        "FLOTILLA_E_CONFIG_INVALID",
        `${file} does not validate ("flotilla validate" names the problems); to restore a backup over it, run "flotilla restore ID --state-dir DIR"`,
      );
    }
  }
  const { backupId, text } = openBackup(stateDir, id);
  return validateProposed(text, `backup ${backupId}`, file);
}

export const restoreCommand: Command = {
  name: "restore",
  summary: "List backups, or restore one (ID or last-known-good) through the same checks as config apply",
  usage: "flotilla restore [ID|last-known-good] [--yes] [--state-dir DIR] [-c FILE] [--json]",
  options: { yes: { type: "boolean", short: "y" }, "state-dir": { type: "string" } },
  async run(input) {
    const [id] = input.positionals;
    const live = liveForRestore(input, id);
    if (id) return restoreBackup(live, id, { yes: input.values.yes === true, json: input.json });
    const backups = listBackups(live.config.stateDir);
    const lkg = readLastKnownGood(live.config.stateDir);
    if (input.json) {
      printJson({ backups, lastKnownGood: lkg ?? null });
      return 0;
    }
    const rows = backups.map(
      (b) =>
        `${b.id}  ${new Date(b.createdAt).toISOString()}  ${b.reason}${b.id === lkg?.backupId ? "  (last known good)" : ""}`,
    );
    print(rows.length > 0 ? rows.join("\n") : "no backups yet; run flotilla backup");
    return 0;
  },
};
