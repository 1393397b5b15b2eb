/**
 * corrupt-config: back up the live config, then write invalid YAML over it. Recovered when the live file
 * validates again (the watchdog restores the last known good). Refused while the fleet has no last known
 * good, since nothing could restore it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { validateConfigText } from "../../config/load.ts";
import { formatDuration } from "../../config/units.ts";
import { FlotillaError } from "../../errors.ts";
import { createBackup } from "../../migrations/backups.ts";
import { readLastKnownGood } from "../../migrations/last-known-good.ts";
import type { Drill } from "./drill.ts";
import { requireDaemon } from "./fleet-access.ts";

/** What the drill writes: a YAML syntax error on line 3, with a note saying who wrote it. */
const CORRUPT_CONFIG_TEXT =
  "# written by `flotilla drill corrupt-config`: invalid YAML on purpose; the watchdog restores the last known good\nversion: 1\nagents: [ { name: broken\n";

export const corruptConfig: Drill = {
  name: "corrupt-config",
  summary: "write invalid YAML into the live config: the watchdog must restore the last known good",
  escalations: 0,
  async prepare(ctx) {
    const { config, configFile } = ctx;
    await requireDaemon(ctx);
    const lkg = readLastKnownGood(config.stateDir);
    if (!lkg)
      throw new FlotillaError(
        "FLOTILLA_E_DRILL_REFUSED",
        `corrupt-config: the fleet has no last known good yet, so nothing could restore the config; it records one after migrations.lastKnownGoodAfter (${formatDuration(config.migrations.lastKnownGoodAfter)}) healthy on one config: wait, or lower it`,
      );
    return {
      inject: async () => {
        const original = readFileSync(configFile, "utf8");
        const backup = createBackup({
          stateDir: config.stateDir,
          configFile,
          configText: original,
          config,
          reason: "drill corrupt-config: the live config before the drill",
          keep: config.migrations.keepBackups,
          protect: [lkg.backupId],
        });
        const at = Date.now();
        writeFileSync(configFile, CORRUPT_CONFIG_TEXT);
        ctx.note(`wrote invalid YAML into ${configFile} (backup ${backup.id} holds what was there)`);
        const valid = () => {
          try {
            return validateConfigText(readFileSync(configFile, "utf8"), configFile).ok;
          } catch {
            return false;
          }
        };
        return {
          target: { kind: "config", id: "config", name: "config" },
          at,
          healthy: async () => valid(),
          async cleanup() {
            if (valid()) return;
            writeFileSync(configFile, original);
            ctx.note(`put the config back as it was before the drill (backup ${backup.id})`);
          },
        };
      },
    };
  },
};
