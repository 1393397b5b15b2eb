/** `flotilla config apply|diff|history`: config changes as migrations (see docs/migrations.md). */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { connectDaemon } from "../api/client.ts";
import { readDaemonInfo } from "../api/daemon-files.ts";
import { readProposed } from "../migrations/apply-input.ts";
import { readLastKnownGood } from "../migrations/last-known-good.ts";
import { renderPlan } from "../migrations/plan.ts";
import { FlotillaError } from "../errors.ts";
import { openSqliteStore } from "../ledger/sqlite-store.ts";
import type { LedgerEvent } from "../ledger/store.ts";
import { type Command, type CommandInput, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";
import { prepareMigration, runMigration } from "./migration.ts";

const USAGE = "flotilla config apply FILE [--yes] | diff FILE | history [-c FILE] [--json]";

function proposedFile(input: CommandInput): string {
  const file = input.positionals[1];
  if (!file) throw new FlotillaError("FLOTILLA_E_USAGE", `name the proposed config file; usage: ${USAGE}`);
  return file;
}

async function diff(input: CommandInput): Promise<number> {
  const live = loadForCli(input);
  const file = proposedFile(input);
  const text = readProposed(file);
  const { plan, diff: patch } = await prepareMigration(live, text, file);
  if (input.json) printJson({ plan, diff: patch });
  else print(`${renderPlan(plan)}\n${patch || "(the texts are identical)"}`);
  return 0;
}

/** Config events from the daemon, or from the ledger file when no daemon runs. */
function configEvents(stateDir: string): Promise<LedgerEvent[]> | LedgerEvent[] {
  if (readDaemonInfo(stateDir)) {
    return connectDaemon(stateDir)
      .get<{ events: LedgerEvent[] }>("/v1/events?kind=config.&limit=1000")
      .then((body) => body.events);
  }
  if (!existsSync(join(stateDir, "ledger.db"))) return [];
  const store = openSqliteStore(join(stateDir, "ledger.db"));
  try {
    return store.query({ kindPrefix: "config.", limit: 1000 });
  } finally {
    store.close();
  }
}

const HISTORY_KINDS = new Set([
  "config.apply_started",
  "config.applied",
  "config.rolled_back",
  "config.recovered",
  "config.last_known_good",
]);

async function history(input: CommandInput): Promise<number> {
  const { config } = loadForCli(input);
  const lkg = readLastKnownGood(config.stateDir);
  const events = (await configEvents(config.stateDir)).filter((e) => HISTORY_KINDS.has(e.kind));
  if (input.json) {
    printJson({ lastKnownGood: lkg ?? null, events });
    return 0;
  }
  const rows = events.map((e) => {
    const time = new Date(e.ts).toISOString().replace("T", " ").slice(0, 19);
    const d = e.data as Record<string, unknown>;
    const what = [d.id, d.source, d.backupId ? `backup ${String(d.backupId)}` : "", d.action]
      .filter(Boolean)
      .join("  ");
    const mark =
      e.kind === "config.last_known_good" && d.backupId === lkg?.backupId ? "  ← last known good" : "";
    return `${time}  ${e.kind.slice("config.".length).padEnd(16)} ${what}${mark}`;
  });
  print(rows.length > 0 ? rows.join("\n") : "no config changes recorded yet");
  if (lkg) print(`last known good: backup ${lkg.backupId} (since ${new Date(lkg.at).toISOString()})`);
  return 0;
}

export const configCommand: Command = {
  name: "config",
  summary: "Change the running fleet's config as a migration: apply FILE, diff FILE, history",
  usage: USAGE,
  options: { yes: { type: "boolean", short: "y" } },
  async run(input) {
    const action = input.positionals[0];
    if (action === "apply") {
      const file = proposedFile(input);
      return runMigration({
        live: loadForCli(input),
        text: readProposed(file),
        source: file,
        yes: input.values.yes === true,
        json: input.json,
      });
    }
    if (action === "diff") return diff(input);
    if (action === "history") return history(input);
    throw new FlotillaError("FLOTILLA_E_USAGE", `unknown action "${action ?? ""}"; usage: ${USAGE}`);
  },
};
