/**
 * How a drill reaches the running fleet: the daemon (refusing, naming `flotilla up`, when there is none),
 * an agent's status and processes, and the agent's own health probe, all as the operator.
 */
import type { ApiClient } from "../../api/client.ts";
import type { AgentConfig } from "../../config/schema.ts";
import { FlotillaError } from "../../errors.ts";
import type { AgentStatus } from "../../supervisor/agent-runner.ts";
import { probeHealth } from "../../supervisor/health-probe.ts";
import { descendants, isAlive, readProc, signal, signalGroup } from "../../supervisor/process-tree.ts";
import type { DrillContext } from "./drill.ts";

/** The fleet's status through the daemon; a refusal naming `flotilla up` when no daemon answers. */
export async function requireDaemon(
  ctx: DrillContext,
): Promise<{ client: ApiClient; agents: AgentStatus[] }> {
  let client: ApiClient;
  try {
    client = ctx.api();
    const { agents } = await client.get<{ agents: AgentStatus[] }>("/v1/status");
    return { client, agents };
  } catch (cause) {
    throw new FlotillaError(
      "FLOTILLA_E_DAEMON_NOT_RUNNING",
      `a drill needs a running fleet and no daemon answers for ${ctx.config.stateDir}; start it with "flotilla up"`,
      { cause },
    );
  }
}

/** The agent's status now, or undefined while the daemon does not answer. */
export async function agentStatus(ctx: DrillContext, name: string): Promise<AgentStatus | undefined> {
  try {
    const { agents } = await ctx.api().get<{ agents: AgentStatus[] }>("/v1/status");
    return agents.find((a) => a.name === name);
  } catch {
    return undefined;
  }
}

/**
 * The agent a drill acts on: --agent when given (it must fit), else the first configured agent that fits.
 * `fits` returns why an agent does not fit (naming the field and how to set it), or undefined.
 */
export function chooseAgent(
  ctx: DrillContext,
  drill: string,
  fits: (agent: AgentConfig) => string | undefined,
): AgentConfig {
  const { agents } = ctx.config;
  const wanted = ctx.options.agent;
  if (wanted !== undefined) {
    const agent = agents.find((a) => a.name === wanted);
    if (!agent)
      throw new FlotillaError(
        "FLOTILLA_E_UNKNOWN_AGENT",
        `no agent "${wanted}"; the fleet has ${agents.map((a) => a.name).join(", ") || "no agents"}`,
      );
    const why = fits(agent);
    if (why)
      throw new FlotillaError("FLOTILLA_E_DRILL_REFUSED", `${drill} refuses agent ${agent.name}: ${why}`);
    return agent;
  }
  const fit = agents.find((a) => a.autostart && fits(a) === undefined);
  if (fit) return fit;
  const first = agents[0];
  throw new FlotillaError(
    "FLOTILLA_E_DRILL_REFUSED",
    first
      ? `${drill}: no agent fits (${first.name}: ${fits(first)}); fix one or name it with --agent`
      : `${drill}: the fleet has no agents`,
  );
}

/** The running agent's pid; a refusal when it is not running and healthy (a drill starts from a working fleet). */
export async function runningPid(ctx: DrillContext, name: string): Promise<number> {
  const status = await agentStatus(ctx, name);
  if (!status || status.state !== "running" || status.pid === null)
    throw new FlotillaError(
      "FLOTILLA_E_DRILL_REFUSED",
      `agent ${name} is ${status?.state ?? "unknown"}, not running; start it ("flotilla start ${name}") and let it settle before a drill`,
    );
  return status.pid;
}

/** The process's identity (pid and start time), so a later signal never reaches a reused pid. */
export function processIdentity(pid: number): { pid: number; startTime: number } {
  return { pid, startTime: readProc(pid)?.startTime ?? 0 };
}

/**
 * Signals the agent's whole tree: its process group and every descendant by parent pid (a sandbox's
 * inner processes may sit in groups of their own). Nothing when that process is gone.
 */
export function signalAgent(proc: { pid: number; startTime: number }, sig: NodeJS.Signals): void {
  const { pid } = proc;
  if (!isAlive(pid, proc.startTime)) return;
  const pgid = readProc(pid)?.pgid ?? pid;
  const tree = descendants(pid);
  signalGroup(pgid, sig);
  signal(pid, sig);
  for (const p of tree) signal(p.pid, sig);
}

/** The agent answers its own health probe and the supervisor calls it running. */
export async function agentHealthy(ctx: DrillContext, agent: AgentConfig): Promise<boolean> {
  const status = await agentStatus(ctx, agent.name);
  if (status?.state !== "running") return false;
  return (await probeHealth(agent)).ok;
}
