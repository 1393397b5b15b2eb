/**
 * Probes that read records rather than processes: the oversight heartbeat (oversight.db), the live config
 * file, and a provider's recent outcomes in the gateway's ledger events. Every SQLite file is opened read-only.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { readDaemonInfo } from "../api/daemon-files.ts";
import { validateConfigText } from "../config/load.ts";
import type { Verdict } from "./probe-processes.ts";
import type { ProbeContext } from "./probes.ts";

const minutes = (ms: number) => `${Math.round(ms / 60_000)}m`;

/** Runs fn on the file opened read-only; undefined when it is missing or cannot be read. */
function readOnly<T>(path: string, fn: (db: DatabaseSync) => T): T | undefined {
  if (!existsSync(path)) return undefined;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    db.exec("PRAGMA busy_timeout = 2000");
    return fn(db);
  } catch {
    return undefined;
  } finally {
    if (db?.isOpen) db.close();
  }
}

/** When the last oversight run finished (epoch ms), from oversight.db; undefined when none has. */
export function oversightHeartbeat(stateDir: string): number | undefined {
  return readOnly(join(stateDir, "oversight.db"), (db) => {
    const row = db.prepare("SELECT MAX(finished) AS finished FROM runs WHERE finished IS NOT NULL").get();
    return row?.finished == null ? undefined : Number(row.finished);
  });
}

/**
 * Oversight: down when its last finished run is older than 2 × oversight.every and the daemon (which runs the
 * pass) has been up longer than that; starting otherwise (a young daemon, or none: the daemon is healed first).
 */
export function probeOversight(ctx: ProbeContext): Verdict {
  const now = ctx.now();
  const limit = 2 * ctx.config.oversight.every;
  const beat = oversightHeartbeat(ctx.config.stateDir);
  const age = beat === undefined ? undefined : now - beat;
  const seen = age === undefined ? "no run finished yet" : `heartbeat ${minutes(age)} old`;
  if (age !== undefined && age <= limit) return { state: "healthy", detail: seen };
  const daemon = readDaemonInfo(ctx.config.stateDir);
  if (!daemon) return { state: "starting", detail: `${seen}; the daemon that runs it is down` };
  const daemonUp = now - daemon.startedAt;
  if (daemonUp <= limit)
    return { state: "starting", detail: `${seen}; the daemon is up ${minutes(daemonUp)}` };
  return { state: "down", detail: age === undefined ? `no run finished in ${minutes(daemonUp)}` : seen };
}

/** The live config file: healthy when it validates, else down with its first problem. */
export function probeConfig(ctx: ProbeContext): Verdict {
  let text: string;
  try {
    text = readFileSync(ctx.configFile, "utf8");
  } catch (err) {
    return {
      state: "down",
      detail: `cannot read ${ctx.configFile}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
    };
  }
  const result = validateConfigText(text, ctx.configFile);
  if (result.ok) return { state: "healthy", detail: "valid" };
  const first = result.problems[0];
  const where = first
    ? `line ${first.line}${first.path ? ` ${first.path}` : ""}: ${first.message}`
    : "invalid";
  return {
    state: "down",
    detail: `${where}${result.problems.length > 1 ? ` (+${result.problems.length - 1} more)` : ""}`,
  };
}

/** Requests a provider answered and failed in the window, from the gateway's ledger events. */
export interface ProviderTraffic {
  succeeded: number;
  failed: number;
}

/** Events that count as a failed request to a provider (each carries data.provider). */
const FAILED_KINDS = [
  "gateway.attempt_failed",
  "gateway.key_cooldown",
  "gateway.key_disabled",
  "gateway.stream_broken",
];

/** A provider's traffic since `since` (epoch ms): gateway.request rows succeeded, the FAILED_KINDS failed. */
function providerTraffic(stateDir: string, provider: string, since: number): ProviderTraffic | undefined {
  return readOnly(join(stateDir, "ledger.db"), (db) => {
    const rows = db
      .prepare(
        `SELECT kind, COUNT(*) AS n FROM events
         WHERE kind GLOB 'gateway.*' AND ts >= ? AND json_extract(data, '$.provider') = ? GROUP BY kind`,
      )
      .all(since, provider);
    const traffic = { succeeded: 0, failed: 0 };
    for (const row of rows) {
      const kind = String(row.kind);
      if (kind === "gateway.request") traffic.succeeded += Number(row.n);
      else if (FAILED_KINDS.includes(kind)) traffic.failed += Number(row.n);
    }
    // After a few failures the provider's circuit breaker opens and requests no longer reach it: each is
    // then a gateway.exhausted naming "<provider>: circuit open", and counts as failed too.
    const refused = db
      .prepare(
        `SELECT COUNT(*) AS n FROM events, json_each(events.data, '$.failures') AS failure
         WHERE events.kind = 'gateway.exhausted' AND events.ts >= ? AND failure.value = ?`,
      )
      .get(since, `${provider}: circuit open`);
    traffic.failed += Number(refused?.n ?? 0);
    return traffic;
  });
}

/** Failed requests in the window, with none answered, before a provider counts as down. */
export const PROVIDER_MIN_FAILURES = 3;

/**
 * A provider: down when, over the last 2 × probeSpacing, at least PROVIDER_MIN_FAILURES requests to it failed
 * and none succeeded; healthy otherwise, including without traffic (nothing to judge by).
 */
export function probeProvider(provider: string, ctx: ProbeContext): Verdict {
  const window = 2 * ctx.config.watchdog.probeSpacing;
  const traffic = providerTraffic(ctx.config.stateDir, provider, ctx.now() - window);
  if (!traffic) return { state: "healthy", detail: "no ledger to judge by" };
  const seen = `${traffic.failed} failed, ${traffic.succeeded} answered in the last ${Math.round(window / 1000)}s`;
  if (traffic.failed >= PROVIDER_MIN_FAILURES && traffic.succeeded === 0)
    return { state: "down", detail: seen };
  return { state: "healthy", detail: traffic.failed + traffic.succeeded === 0 ? "no recent traffic" : seen };
}
