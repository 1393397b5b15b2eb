/**
 * Last known good: once the fleet has run healthy, with no restart, on one config for
 * `migrations.lastKnownGoodAfter`, that config is backed up and recorded in <stateDir>/last-known-good.json.
 * `flotilla restore last-known-good` restores it through the same path as any backup.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../ledger/store.ts";
import type { AgentStatus } from "../supervisor/agent-runner.ts";
import { createBackup } from "./backups.ts";
import { writeFileAtomic } from "../config/managed-files.ts";
import type { RunningConfig } from "./migrator.ts";

export interface LastKnownGood {
  backupId: string;
  at: number;
  configFile: string;
}

function lkgFile(stateDir: string): string {
  return join(stateDir, "last-known-good.json");
}

/** The recorded last known good config, or undefined when there is none yet. */
export function readLastKnownGood(stateDir: string): LastKnownGood | undefined {
  const file = lkgFile(stateDir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as LastKnownGood) : undefined;
}

export interface TrackerDeps {
  store: Store;
  status: () => AgentStatus[];
  running: RunningConfig;
}

/** Watches the fleet on the running config and records it as last known good after the configured time. */
export function createLastKnownGoodTracker(deps: TrackerDeps) {
  let running = deps.running;
  let timer: NodeJS.Timeout | undefined;
  let baseline = "";

  const fingerprint = () =>
    JSON.stringify(
      deps
        .status()
        .filter((s) => s.state !== "stopped")
        .map((s) => [s.name, s.pid, s.restarts]),
    );
  const healthy = () =>
    deps.status().every((s) => s.state === "stopped" || (s.state === "running" && s.health.ok !== false));

  function mark(): void {
    const { config, file } = running.loaded;
    const backup = createBackup({
      stateDir: config.stateDir,
      configFile: file,
      configText: running.text,
      config,
      reason: "last known good",
      keep: config.migrations.keepBackups,
      protect: [readLastKnownGood(config.stateDir)?.backupId ?? ""],
      // The daemon's environment holds no secret: the values handed to it are what the backup redacts.
      env: { ...process.env, ...running.wiring.secrets },
    });
    const record: LastKnownGood = { backupId: backup.id, at: Date.now(), configFile: file };
    writeFileAtomic(lkgFile(config.stateDir), JSON.stringify(record, null, 2), 0o600);
    deps.store.append({ kind: "config.last_known_good", data: { ...record } });
  }

  function arm(): void {
    if (timer) clearTimeout(timer);
    baseline = fingerprint();
    timer = setTimeout(() => {
      timer = undefined;
      // Healthy now and nothing restarted during the window: good. Otherwise start a new window.
      if (!healthy() || fingerprint() !== baseline) return arm();
      try {
        mark();
      } catch (err) {
        deps.store.append({ kind: "config.last_known_good_failed", data: { error: (err as Error).message } });
        arm();
      }
    }, running.loaded.config.migrations.lastKnownGoodAfter);
    timer.unref();
  }

  return {
    /** Starts (or restarts) the window for the config the fleet runs now. */
    reset(next: RunningConfig = running): void {
      running = next;
      arm();
    },
    close(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
