/**
 * `flotilla events [--agent A] [--kind K] [--since 1h] [-n 100] [-f]`: ledger events, oldest first.
 * Through the daemon's API while it runs (it is the ledger's one writer), else from the ledger file.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { connectDaemon } from "../api/client.ts";
import { readDaemonInfo } from "../api/daemon-files.ts";
import { JUDGE_IDENTITY } from "../config/cross-field.ts";
import type { FlotillaConfig } from "../config/schema.ts";
import { parseDuration } from "../config/units.ts";
import { FlotillaError } from "../errors.ts";
import { openSqliteStore } from "../ledger/sqlite-store.ts";
import type { EventQuery, LedgerEvent } from "../ledger/store.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";

const USAGE = "flotilla events [--agent A] [--kind K] [--since 1h] [-n 100] [-f] [-c FILE] [--json]";
/** How often -f asks for new events (ms). */
const FOLLOW_EVERY_MS = 500;
/** Most events one -f poll takes; a busier fleet is read over several polls. */
const FOLLOW_BATCH = 1000;

type Filter = Pick<EventQuery, "agent" | "kindPrefix">;

/** Reads events matching the filter, newest `limit`, oldest first. */
type Reader = (filter: Filter, limit: number) => Promise<LedgerEvent[]>;

function daemonReader(config: FlotillaConfig): Reader {
  const client = connectDaemon(config.stateDir);
  return async (filter, limit) => {
    const params = new URLSearchParams({ limit: String(limit) });
    if (filter.agent) params.set("agent", filter.agent);
    if (filter.kindPrefix) params.set("kind", filter.kindPrefix);
    return (await client.get<{ events: LedgerEvent[] }>(`/v1/events?${params}`)).events;
  };
}

function fileReader(config: FlotillaConfig): Reader {
  const file = join(config.stateDir, "ledger.db");
  return async (filter, limit) => {
    if (!existsSync(file)) return [];
    const store = openSqliteStore(file);
    try {
      return store.query({ ...filter, limit });
    } finally {
      store.close();
    }
  };
}

function render(event: LedgerEvent): string {
  const data = Object.keys(event.data).length > 0 ? `  ${JSON.stringify(event.data)}` : "";
  return `${new Date(event.ts).toISOString()}  ${event.kind}  ${event.agent ?? "-"}${data}`;
}

function positiveWhole(text: string | undefined, fallback: number): number {
  const n = Number(text ?? fallback);
  if (!Number.isInteger(n) || n < 1)
    throw new FlotillaError("FLOTILLA_E_USAGE", `-n takes a whole number of events; usage: ${USAGE}`);
  return n;
}

export const eventsCommand: Command = {
  name: "events",
  summary: "List ledger events (crash loops, dead keys, applies), -f to follow",
  usage: USAGE,
  options: {
    agent: { type: "string" },
    kind: { type: "string" },
    since: { type: "string" },
    lines: { type: "string", short: "n" },
    follow: { type: "boolean", short: "f" },
  },
  async run(input) {
    if (input.positionals.length > 0)
      throw new FlotillaError("FLOTILLA_E_USAGE", `events takes no positional arguments; usage: ${USAGE}`);
    const limit = positiveWhole(input.values.lines as string | undefined, 100);
    const sinceText = input.values.since as string | undefined;
    const sinceMs = sinceText === undefined ? undefined : parseDuration(sinceText);
    if (sinceMs === undefined && sinceText !== undefined)
      throw new FlotillaError(
        "FLOTILLA_E_USAGE",
        `--since takes a duration such as 30m, 1h or 2d (got "${sinceText}"); usage: ${USAGE}`,
      );
    const { config } = loadForCli(input);
    const agent = input.values.agent as string | undefined;
    if (agent !== undefined && !config.agents.some((a) => a.name === agent) && !isFleetProcess(config, agent))
      throw new FlotillaError("FLOTILLA_E_UNKNOWN_AGENT", `no agent named "${agent}" in the config`);
    const filter: Filter = {
      ...(agent ? { agent } : {}),
      ...(input.values.kind ? { kindPrefix: input.values.kind as string } : {}),
    };
    const read = readDaemonInfo(config.stateDir) ? daemonReader(config) : fileReader(config);
    const from = sinceMs === undefined ? 0 : Date.now() - sinceMs;
    const events = (await read(filter, limit)).filter((event) => event.ts >= from);
    if (!input.values.follow) {
      if (input.json) printJson({ events });
      else if (events.length > 0) print(events.map(render).join("\n"));
      return 0;
    }
    const show = (event: LedgerEvent) => print(input.json ? JSON.stringify(event) : render(event));
    events.forEach(show);
    let last = events.at(-1)?.id ?? (await read(filter, 1)).at(-1)?.id ?? 0;
    const stop = new AbortController();
    process.once("SIGINT", () => stop.abort());
    process.once("SIGTERM", () => stop.abort());
    while (!stop.signal.aborted) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, FOLLOW_EVERY_MS);
        stop.signal.addEventListener("abort", () => resolve(clearTimeout(timer)), { once: true });
      });
      for (const event of await read(filter, FOLLOW_BATCH))
        if (event.id > last) {
          show(event);
          last = event.id;
        }
    }
    return 0;
  },
};

/** The gateway and the simulator run as supervised processes and have events of their own. */
function isFleetProcess(config: FlotillaConfig, name: string): boolean {
  return (
    (name === "gateway" && config.providers.length > 0) ||
    (name === "simulator" && !!config.simulator) ||
    (name === JUDGE_IDENTITY && config.oversight.model !== undefined)
  );
}
