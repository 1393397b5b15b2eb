/**
 * One doorway for the supervisor and run-agent: the preflight problems of an agent's isolation, and the
 * argv that starts it isolated. Flotilla's own processes (the gateway, the simulator) are never passed here.
 */
import { existsSync } from "node:fs";
import type { AgentConfig } from "../config/schema.ts";
import { type FleetView, type Isolation, within } from "./policy.ts";
import { sandboxProblem, userModeProblem } from "./probe.ts";
import { sandboxArgs } from "./sandbox.ts";
import { agentUserName, claimWorkspace, createAgentUser, dropTo, lookupUser } from "./user.ts";

export interface IsolatedLaunch {
  argv: string[];
  /**
   * The spawned process is a launcher (bwrap) that exits with the agent: a graceful stop signals the agent
   * inside, not the launcher, or the launcher's death would tear the sandbox down mid-shutdown.
   */
  launcher: boolean;
  /** How it is isolated, for status and describe: "sandbox", "user flotilla-coder (uid 998)", "none". */
  summary: string;
}

function pathProblems(agent: AgentConfig, isolation: Isolation, view: FleetView): string[] {
  const problems: string[] = [];
  const where = `agent ${agent.name}: isolation`;
  if (within(agent.workspace, view.stateDir))
    problems.push(
      `${where}: workspace ${agent.workspace} is inside the state dir ${view.stateDir}, which agents must never reach; choose a workspace outside it`,
    );
  for (const [field, paths] of [
    ["writable", isolation.writable],
    ["readable", isolation.readable],
  ] as const) {
    paths.forEach((path, index) => {
      const at = `${where}.${field}[${index}]: ${path}`;
      if (within(path, view.stateDir))
        problems.push(
          `${at} is inside the state dir ${view.stateDir}, which agents must never reach; remove it`,
        );
      else if (field === "writable" && (within(view.stateDir, path) || within(view.configFile, path)))
        problems.push(
          `${at} contains the state dir or the config file, which would let the agent change what governs it; grant a narrower path`,
        );
      else if (view.secretFiles.some((file) => within(file, path)))
        problems.push(`${at} holds a secret file of the fleet; grant a path without it`);
      else if (!existsSync(path)) problems.push(`${at} does not exist; create it first or remove it`);
    });
  }
  return problems;
}

/** One line per reason this agent cannot start isolated as configured; empty when it can. */
export function isolationProblems(agent: AgentConfig, isolation: Isolation, view: FleetView): string[] {
  if (isolation.mode === "none") return [];
  const problems = pathProblems(agent, isolation, view);
  if (isolation.mode === "sandbox") {
    const problem = sandboxProblem();
    if (problem) problems.push(`agent ${agent.name}: isolation sandbox: ${problem}`);
    return problems;
  }
  const notRoot = userModeProblem();
  if (notRoot) return [...problems, `agent ${agent.name}: ${notRoot}`];
  const ids = lookupUser(agent.name, isolation);
  if (typeof ids === "string" && !isolation.createUser) problems.push(ids);
  return problems;
}

/** The argv that starts the agent isolated (creating its user and handing it the workspace in mode user). */
export function isolatedLaunch(
  agent: AgentConfig,
  isolation: Isolation,
  view: FleetView,
  argv: string[],
): IsolatedLaunch {
  if (isolation.mode === "sandbox")
    return {
      argv: ["bwrap", ...sandboxArgs(agent.workspace, isolation, view, argv)],
      launcher: true,
      summary: "sandbox",
    };
  if (isolation.mode === "none") return { argv, launcher: false, summary: "none" };
  let ids = lookupUser(agent.name, isolation);
  if (typeof ids === "string") {
    createAgentUser(agentUserName(agent.name, isolation));
    ids = lookupUser(agent.name, isolation);
    if (typeof ids === "string") throw new Error(ids);
  }
  claimWorkspace(agent.workspace, ids);
  return { argv: dropTo(ids, argv), launcher: false, summary: `user ${ids.name} (uid ${ids.uid})` };
}
