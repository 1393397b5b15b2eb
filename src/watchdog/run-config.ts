/**
 * The config one watchdog run works with. The live file is read afresh each run; when it does not validate
 * (the case a watchdog is for), the run goes on with the last config it could read, or, on a first run, with
 * the last known good backup's config in --state-dir. The live file's state is itself a probe target.
 */
import { readLastKnownGood } from "../migrations/last-known-good.ts";
import { readBackup } from "../migrations/backups.ts";
import { validateProposed } from "../migrations/apply-input.ts";
import { type LoadedConfig, loadConfig } from "../config/load.ts";
import { FlotillaError, isFlotillaError } from "../errors.ts";

export interface RunConfig {
  loaded: LoadedConfig;
  /** False when the live file did not validate and `loaded` stands in for it. */
  live: boolean;
  /** Why the live file was not used. */
  problem?: string;
}

function fromLastKnownGood(stateDir: string, file: string): LoadedConfig | undefined {
  const lkg = readLastKnownGood(stateDir);
  if (!lkg) return undefined;
  const { manifest, contents } = readBackup(stateDir, lkg.backupId);
  const entry = manifest.files.find((f) => f.role === "config");
  const text = entry ? contents.get(entry.path) : undefined;
  return text === undefined ? undefined : validateProposed(text, `backup ${lkg.backupId}`, file);
}

/** Loads the live config, or stands in for it with the previous run's or the last known good's. */
export function loadRunConfig(
  file: string,
  previous: LoadedConfig | undefined,
  stateDir?: string,
): RunConfig {
  try {
    return { loaded: loadConfig(file), live: true };
  } catch (err) {
    if (!isFlotillaError(err) || err.code !== "FLOTILLA_E_CONFIG_INVALID") throw err;
    const problem = err.message.split("\n")[0] ?? err.message;
    if (previous) return { loaded: previous, live: false, problem };
    const standIn = stateDir ? fromLastKnownGood(stateDir, file) : undefined;
    if (standIn) return { loaded: standIn, live: false, problem };
    throw new FlotillaError(
      "FLOTILLA_E_CONFIG_INVALID",
      `${problem}; the watchdog needs a config to start from: fix the file, or give --state-dir DIR so it can use the last known good`,
    );
  }
}
