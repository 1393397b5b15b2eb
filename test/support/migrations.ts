/** Test helpers for config migrations: example-agent fleets as YAML, the ledger's config events, the daemon's pid. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { EXAMPLE_AGENT, NODE } from "./fleet.ts";

export interface AgentSpec {
  name: string;
  port: number;
  /** Extra flow-mapping entries, such as `env: { X: "1" }`. */
  extra?: string;
}

/** One example agent as a flow mapping on one line. */
export function agentLine(agent: AgentSpec): string {
  const extra = agent.extra ? `, ${agent.extra}` : "";
  return `  - { name: ${agent.name}, command: [${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}], port: ${agent.port}, workspace: ./ws/${agent.name}, health: { http: /health, interval: 100ms, grace: 10s }, restart: { delay: 200ms, burst: 3/1m }, stopTimeout: 3s${extra} }`;
}

/** A fleet config of example agents; `settings` are extra top-level lines. */
export function fleetConfig(agents: AgentSpec[], settings = ""): string {
  return `version: 1\nstateDir: ./state\n${settings}agents:\n${agents.map(agentLine).join("\n")}\n`;
}

/** Alpha alone, and alpha with bravo added: the usual change in a migration test. */
export function alphaThenBravo(pa: number, pb: number): { oldText: string; newText: string } {
  return {
    oldText: fleetConfig([{ name: "alpha", port: pa }]),
    newText: fleetConfig([
      { name: "alpha", port: pa },
      { name: "bravo", port: pb },
    ]),
  };
}

export interface StoredEvent {
  ts: number;
  kind: string;
  agent: string | null;
  data: Record<string, unknown>;
}

/** Events whose kind starts with `prefix`, oldest first, read straight from the ledger file. */
export function ledgerEvents(dir: string, prefix: string): StoredEvent[] {
  const db = new DatabaseSync(join(dir, "state/ledger.db"), { readOnly: true });
  try {
    const rows = db
      .prepare("SELECT ts, kind, agent, data FROM events WHERE kind LIKE ? ORDER BY id")
      .all(`${prefix}%`) as Array<{ ts: number; kind: string; agent: string | null; data: string }>;
    return rows.map((r) => ({
      ts: r.ts,
      kind: r.kind,
      agent: r.agent,
      data: JSON.parse(r.data) as Record<string, unknown>,
    }));
  } finally {
    db.close();
  }
}

/** The running daemon's pid, from daemon.json. */
export function daemonPid(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, "state/daemon.json"), "utf8")) as { pid: number }).pid;
}
