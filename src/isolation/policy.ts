/**
 * Which isolation an agent gets and what its sandbox must hide: the agent's own setting over the fleet's,
 * and the fleet's view (state dir, every workspace, every secret file) that no agent may reach.
 */
import type { AgentConfig, FlotillaConfig, IsolationMode } from "../config/schema.ts";
import { secretFiles } from "../config/secrets.ts";

export interface Isolation {
  mode: IsolationMode;
  /** Absolute paths the agent may write besides its workspace and its own /tmp. */
  writable: string[];
  /** Absolute paths, hidden by default, that the agent may read. */
  readable: string[];
  user?: string;
  group?: string;
  createUser: boolean;
}

/** What every sandbox of one fleet hides unless granted: the paths that govern the agents. */
export interface FleetView {
  stateDir: string;
  /** The config file: never writable by an agent. */
  configFile: string;
  /** Every agent's workspace (an agent sees only its own and those it is granted). */
  workspaces: string[];
  /** Files behind { file } secret references (provider keys, OAuth secrets, agents' env secrets). */
  secretFiles: string[];
}

/** The agent's isolation: its mode over the fleet's, the fleet's paths plus its own. */
export function isolationOf(agent: AgentConfig, fleet: FlotillaConfig["isolation"]): Isolation {
  const own = agent.isolation;
  const user = own?.user ?? fleet.user;
  const group = own?.group ?? fleet.group;
  return {
    mode: own?.mode ?? fleet.mode ?? "sandbox",
    writable: [...fleet.writable, ...(own?.writable ?? [])],
    readable: [...fleet.readable, ...(own?.readable ?? [])],
    ...(user === undefined ? {} : { user }),
    ...(group === undefined ? {} : { group }),
    createUser: own?.createUser ?? fleet.createUser,
  };
}

/** The view of a loaded config (paths already absolute). */
export function fleetView(config: FlotillaConfig, configFile: string): FleetView {
  return {
    stateDir: config.stateDir,
    configFile,
    workspaces: config.agents.map((a) => a.workspace),
    secretFiles: secretFiles(config),
  };
}

/** Whether `path` is `dir` or lies inside it. */
export function within(path: string, dir: string): boolean {
  const base = dir.endsWith("/") ? dir : `${dir}/`;
  return path === dir || path.startsWith(base);
}

/**
 * The other agents' workspaces this agent must not see: all but its own, even one nested inside its own,
 * unless a readable or writable grant names it.
 */
export function hiddenWorkspaces(workspace: string, isolation: Isolation, view: FleetView): string[] {
  const grants = [...isolation.readable, ...isolation.writable];
  return view.workspaces.filter((w) => w !== workspace && !grants.some((p) => within(w, p)));
}
