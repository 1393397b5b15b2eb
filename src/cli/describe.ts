/**
 * `flotilla describe AGENT`: one agent in full, like `pm2 describe`: its config, env names (never values),
 * limits, isolation, state, last exits, last 10 log lines and recent events; with or without a daemon.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connectDaemon } from "../api/client.ts";
import { readDaemonInfo } from "../api/daemon-files.ts";
import type { AgentConfig } from "../config/schema.ts";
import { formatDuration } from "../config/units.ts";
import { FlotillaError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import { isolationOf } from "../isolation/policy.ts";
import { openSqliteStore } from "../ledger/sqlite-store.ts";
import type { LedgerEvent } from "../ledger/store.ts";
import type { LogLine } from "../supervisor/log-sink.ts";
import { type Command, print, printJson } from "./command.ts";
import { agentNames, loadForCli } from "./load.ts";
import { offlineStatus } from "./offline-status.ts";
import { lastExitCell, renderStatusTable, type StatusRow } from "./status-table.ts";

const USAGE = "flotilla describe AGENT [-c FILE] [--json]";
const LOG_LINES = 10;
const EVENTS = 10;
const EXITS = 5;

interface Live {
  row: StatusRow | undefined;
  logs: string[];
  events: LedgerEvent[];
  exits: LedgerEvent[];
}

async function fromDaemon(stateDir: string, name: string): Promise<Live> {
  const client = connectDaemon(stateDir);
  const { agents } = await client.get<{ agents: StatusRow[] }>("/v1/status");
  const { lines } = await client.get<{ lines: LogLine[] }>(`/v1/agents/${name}/logs?n=${LOG_LINES}`);
  const events = (await client.get<{ events: LedgerEvent[] }>(`/v1/events?agent=${name}&limit=${EVENTS}`))
    .events;
  const exits = (
    await client.get<{ events: LedgerEvent[] }>(`/v1/events?agent=${name}&kind=agent.exited&limit=${EXITS}`)
  ).events;
  const logs = lines.map((l) => (l.stream === "flotilla" ? `[flotilla] ${l.text}` : l.text));
  return { row: agents.find((a) => a.name === name), logs, events, exits };
}

function fromFiles(stateDir: string, agents: StatusRow[], name: string): Live {
  const file = join(stateDir, "logs", `${name}.log`);
  const logs = existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(0, -1).slice(-LOG_LINES) : [];
  const ledger = join(stateDir, "ledger.db");
  if (!existsSync(ledger)) return { row: agents.find((a) => a.name === name), logs, events: [], exits: [] };
  const store = openSqliteStore(ledger);
  try {
    const events = store.query({ agent: name, limit: EVENTS });
    const exits = store.query({ agent: name, kind: "agent.exited", limit: EXITS });
    return { row: agents.find((a) => a.name === name), logs, events, exits };
  } finally {
    store.close();
  }
}

function configLines(agent: AgentConfig, isolation: string): string[] {
  const command = typeof agent.command === "string" ? agent.command : JSON.stringify(agent.command);
  const envNames = Object.keys(agent.env);
  const limits = Object.entries(agent.limits).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const r = agent.restart;
  return [
    `command:    ${command}`,
    `workspace:  ${agent.workspace}`,
    `port:       ${agent.port ?? "-"}`,
    `health:     ${JSON.stringify(agent.health)}`,
    `restart:    ${r.policy}, delay ${formatDuration(r.delay)} (max ${formatDuration(r.maxDelay)})`,
    `autostart:  ${agent.autostart}`,
    `env names:  ${envNames.length > 0 ? envNames.join(", ") : "-"}`,
    `limits:     ${limits.length > 0 ? limits.join(", ") : "-"}`,
    `isolation:  ${isolation}`,
  ];
}

function eventLine(e: LedgerEvent): string {
  const time = new Date(e.ts).toISOString().replace("T", " ").slice(0, 19);
  const data = Object.keys(e.data).length > 0 ? ` ${JSON.stringify(e.data)}` : "";
  return `  ${time}  ${e.kind}${data}`;
}

export const describeCommand: Command = {
  name: "describe",
  summary: "Show one agent in full: config, env names, limits, isolation, last exits, last log lines, events",
  usage: USAGE,
  async run(input) {
    const [name = ""] = agentNames(input, USAGE);
    const { config } = loadForCli(input);
    const agent = config.agents.find((a) => a.name === name);
    if (!agent) {
      const known = config.agents.map((a) => a.name).join(", ") || "none";
      const hint = didYouMean(
        name,
        config.agents.map((a) => a.name),
      );
      throw new FlotillaError(
        "FLOTILLA_E_UNKNOWN_AGENT",
        `no agent named "${name}"${hint} (agents: ${known})`,
      );
    }
    const daemon = readDaemonInfo(config.stateDir)?.api;
    const live = daemon
      ? await fromDaemon(config.stateDir, name)
      : fromFiles(config.stateDir, offlineStatus(config), name);
    const isolation = live.row?.isolation ?? isolationOf(agent, config.isolation).mode;
    if (input.json) {
      const { env, ...rest } = agent;
      printJson({
        name,
        config: { ...rest, envNames: Object.keys(env) },
        isolation,
        status: live.row ?? null,
        lastExits: live.exits.map((e) => ({ ts: e.ts, ...e.data })),
        logs: live.logs,
        events: live.events,
      });
      return 0;
    }
    const exits = live.exits.map((e) => {
      const d = e.data as { code?: number | null; signal?: string | null };
      return `  ${lastExitCell({ code: d.code ?? null, signal: d.signal ?? null, at: e.ts }, Date.now())}`;
    });
    print(
      [
        `agent ${name}`,
        ...configLines(agent, isolation),
        "",
        live.row ? renderStatusTable([live.row]) : "state: down (no daemon runs)",
        "",
        `last exits:${exits.length > 0 ? `\n${exits.join("\n")}` : " none"}`,
        `last ${LOG_LINES} log lines:${live.logs.length > 0 ? `\n${live.logs.map((l) => `  | ${l}`).join("\n")}` : " none"}`,
        `recent events:${live.events.length > 0 ? `\n${live.events.map(eventLine).join("\n")}` : " none"}`,
      ].join("\n"),
    );
    return 0;
  },
};
