/**
 * The watchdog's restore of the last known good config, through the migration path (`flotilla restore`),
 * with the rules that keep it safe: only the recorded last known good, never over itself, never a
 * redaction placeholder over a secret, never losing a key added since; the diff and both sha256 recorded.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { validateConfigText } from "../../config/load.ts";
import type { FlotillaConfig } from "../../config/schema.ts";
import {
  type BackupEntry,
  listBackups,
  readBackup,
  REDACTION_PLACEHOLDER,
  storeBackup,
} from "../../migrations/backups.ts";
import { type LastKnownGood, readLastKnownGood } from "../../migrations/last-known-good.ts";
import { unifiedDiff } from "../../migrations/unified-diff.ts";
import { redact } from "../../alerts/alert.ts";
import type { RestoreRecord } from "../types.ts";
import { carryKeys } from "./carry-keys.ts";
import type { RecoverContext } from "./restart.ts";
import { fleetSecrets, runFlotilla } from "./run-child.ts";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

function readLive(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** The newest backup taken after the last known good whose config validates: the keys' source when the live file does not. */
function newestValidBackup(stateDir: string, after: number): FlotillaConfig | undefined {
  for (const manifest of listBackups(stateDir).reverse()) {
    if (manifest.createdAt <= after) break;
    try {
      const { contents } = readBackup(stateDir, manifest.id);
      const entry = manifest.files.find((f) => f.role === "config");
      const checked = validateConfigText((entry && contents.get(entry.path)) ?? "", manifest.id);
      if (checked.ok) return checked.config;
    } catch {
      // a damaged backup is no source
    }
  }
  return undefined;
}

/** What `flotilla restore --json` printed: the migration's result and the backup taken before it. */
interface RestoreAnswer {
  backupId?: string;
  outcome?: string;
}

function parseAnswer(stdout: string): RestoreAnswer {
  try {
    return JSON.parse(stdout) as RestoreAnswer;
  } catch {
    return {};
  }
}

/**
 * Restores the recorded last known good config (with the keys added since) through the migration path;
 * a refusal or failure is a record with its reason, never an exception (the loop escalates).
 */
export async function restoreLastKnownGood(ctx: RecoverContext): Promise<RestoreRecord> {
  try {
    return await restore(ctx);
  } catch (err) {
    // An unexpected error (a full disk, a state dir gone): recorded, and the loop escalates.
    return {
      backupId: "",
      fromSha256: sha256(readLive(ctx.configFile)),
      toSha256: "",
      diff: "",
      keptKeys: [],
      skippedFiles: [],
      outcome: "failed",
      reason: redact((err as Error).message, fleetSecrets(ctx.config, ctx.env)),
    };
  }
}

async function restore(ctx: RecoverContext): Promise<RestoreRecord> {
  const { stateDir } = ctx.config;
  const secrets = fleetSecrets(ctx.config, ctx.env);
  const liveText = readLive(ctx.configFile);
  const record: RestoreRecord = {
    backupId: "",
    fromSha256: sha256(liveText),
    toSha256: "",
    diff: "",
    keptKeys: [],
    skippedFiles: [],
    outcome: "refused",
  };
  const refuse = (reason: string): RestoreRecord => ({ ...record, outcome: "refused", reason });

  let lkg: LastKnownGood | undefined;
  try {
    lkg = readLastKnownGood(stateDir);
  } catch (err) {
    return refuse(`the last known good record cannot be read (${(err as Error).message})`);
  }
  if (!lkg) return refuse("no last known good yet");
  record.backupId = lkg.backupId;
  let files: BackupEntry[];
  let contents: Map<string, string>;
  let createdAt: number;
  try {
    const backup = readBackup(stateDir, lkg.backupId);
    files = backup.manifest.files;
    contents = backup.contents;
    createdAt = backup.manifest.createdAt;
  } catch (err) {
    return refuse(
      `the last known good backup ${lkg.backupId} is missing or damaged: ${(err as Error).message}`,
    );
  }
  const configEntry = files.find((f) => f.role === "config");
  const lkgText = configEntry ? contents.get(configEntry.path) : undefined;
  if (lkgText === undefined) return refuse(`the last known good backup ${lkg.backupId} holds no config file`);
  if (REDACTION_PLACEHOLDER.test(lkgText))
    return refuse(
      `the last known good config (backup ${lkg.backupId}) holds a redaction placeholder; restoring it would write the placeholder over a secret`,
    );
  const lkgCheck = validateConfigText(lkgText, `backup ${lkg.backupId}`);
  if (!lkgCheck.ok) return refuse(`the last known good config (backup ${lkg.backupId}) does not validate`);

  const live = validateConfigText(liveText, ctx.configFile);
  if (live.ok && record.fromSha256 === sha256(lkgText)) return refuse("already on the last known good");
  const newer = live.ok ? live.config : newestValidBackup(stateDir, createdAt);
  const carried = newer ? carryKeys(lkgText, lkgCheck.config, newer) : { text: lkgText, kept: [] };
  record.keptKeys = carried.kept;
  record.toSha256 = sha256(carried.text);
  record.diff = redact(
    unifiedDiff(liveText, carried.text, {
      from: `${ctx.configFile} (live)`,
      to: `last known good ${lkg.backupId}`,
    }),
    secrets,
  );
  if (live.ok && record.toSha256 === record.fromSha256)
    return refuse("already on the last known good (with the keys added since)");
  if (!validateConfigText(carried.text, `backup ${lkg.backupId}`).ok)
    return refuse("the last known good with the keys added since does not validate");

  // A managed file whose copy holds a placeholder keeps its live content: the placeholder stands where a
  // secret value was, and writing it would destroy the secret.
  const others = files.filter((f) => f.role !== "config");
  const skipped = others.filter((f) => REDACTION_PLACEHOLDER.test(contents.get(f.path) ?? ""));
  record.skippedFiles = skipped.map((f) => f.path);
  const target = storeBackup({
    stateDir,
    reason: `watchdog restore of last known good ${lkg.backupId}`,
    sources: [
      { path: configEntry?.path ?? ctx.configFile, role: "config", text: carried.text },
      ...others
        .filter((f) => !skipped.includes(f))
        .map((f) => ({ path: f.path, role: f.role, text: contents.get(f.path) ?? "" })),
    ],
    keep: ctx.config.migrations.keepBackups,
    protect: [lkg.backupId],
  });

  const restore = await runFlotilla(
    ["flotilla", "restore", target.id, "--yes", "--json"],
    ["restore", target.id, "--yes", "--json", "--state-dir", stateDir, "-c", ctx.configFile],
    { env: ctx.env, timeoutMs: ctx.timeoutMs, secrets },
  );
  const answer = parseAnswer(restore.stdout);
  if (answer.backupId) record.savedAs = answer.backupId;
  if (restore.run.exitCode === 0) return { ...record, outcome: "applied" };
  if (answer.outcome === "rolled_back")
    return { ...record, outcome: "rolled_back", reason: restore.stderr.trim().split("\n").at(-1) ?? "" };
  const said = restore.stderr.trim().split("\n").at(-1) ?? "";
  return {
    ...record,
    outcome: "failed",
    reason: restore.run.timedOut
      ? `flotilla restore did not finish within ${ctx.timeoutMs}ms`
      : said || restore.run.output,
  };
}
