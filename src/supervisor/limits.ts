/** Resource limits for an agent: cgroups (v2, else v1) for memory and CPU, rlimits for open files, and a clear word on what was not applied. */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AgentConfig } from "../config/schema.ts";

export interface LaunchPlan {
  file: string;
  args: string[];
  /** cgroup folders the agent is placed in (its processes can be listed from cgroup.procs). */
  cgroups: string[];
  /** How each limit was applied, e.g. "memory: cgroup v1 memory.limit_in_bytes". */
  applied: string[];
  /** Limits that could not be applied, and why. */
  warnings: string[];
}

const CGROUP_ROOT = "/sys/fs/cgroup";
const CFS_PERIOD_US = 100_000;

function tryWrite(path: string, value: string): boolean {
  try {
    writeFileSync(path, value);
    return true;
  } catch {
    return false;
  }
}

function makeDir(path: string): boolean {
  try {
    mkdirSync(path, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

/** cgroup v2: creates the leaf (memory and cpu enabled on the way down); null when not writable, else which limits took. */
function writeV2(leaf: string, limits: AgentConfig["limits"]): { memory: boolean; cpu: boolean } | null {
  const parent = dirname(leaf);
  const ready =
    makeDir(leaf) &&
    tryWrite(join(CGROUP_ROOT, "cgroup.subtree_control"), "+memory +cpu") &&
    tryWrite(join(parent, "cgroup.subtree_control"), "+memory +cpu");
  if (!ready) return null;
  return {
    memory: limits.memory !== undefined && tryWrite(join(leaf, "memory.max"), String(limits.memory)),
    cpu:
      limits.cpu !== undefined &&
      tryWrite(join(leaf, "cpu.max"), `${Math.round(limits.cpu * CFS_PERIOD_US)} ${CFS_PERIOD_US}`),
  };
}

/** cgroup v1: the agent's folder in the memory hierarchy, with its limit. */
function writeV1Memory(dir: string, memory: number): boolean {
  return makeDir(dir) && tryWrite(join(dir, "memory.limit_in_bytes"), String(memory));
}

/** cgroup v1: the agent's folder in the cpu hierarchy, with its quota. */
function writeV1Cpu(dir: string, cpu: number): boolean {
  return (
    makeDir(dir) &&
    tryWrite(join(dir, "cpu.cfs_period_us"), String(CFS_PERIOD_US)) &&
    tryWrite(join(dir, "cpu.cfs_quota_us"), String(Math.round(cpu * CFS_PERIOD_US)))
  );
}

/** cgroup v2: a leaf per agent under <root>/flotilla-<instance>. */
function cgroupV2(group: string, limits: AgentConfig["limits"], plan: LaunchPlan): void {
  const leaf = join(CGROUP_ROOT, group);
  const written = writeV2(leaf, limits);
  if (!written) {
    plan.warnings.push(
      `memory/cpu: cgroup v2 at ${leaf} is not writable (run as root or use the systemd units)`,
    );
    return;
  }
  plan.cgroups.push(leaf);
  if (written.memory) plan.applied.push("memory: cgroup v2 memory.max");
  if (written.cpu) plan.applied.push("cpu: cgroup v2 cpu.max");
}

/** cgroup v1: one folder per agent in the memory and cpu hierarchies. */
function cgroupV1(group: string, limits: AgentConfig["limits"], plan: LaunchPlan): void {
  if (limits.memory !== undefined) {
    const dir = join(CGROUP_ROOT, "memory", group);
    if (writeV1Memory(dir, limits.memory)) {
      plan.cgroups.push(dir);
      plan.applied.push("memory: cgroup v1 memory.limit_in_bytes");
    } else plan.warnings.push(`memory: cgroup v1 folder ${dir} is not writable; memory limit not applied`);
  }
  if (limits.cpu !== undefined) {
    const dir = join(CGROUP_ROOT, "cpu", group);
    if (writeV1Cpu(dir, limits.cpu)) {
      plan.cgroups.push(dir);
      plan.applied.push("cpu: cgroup v1 cpu.cfs_quota_us");
    } else plan.warnings.push(`cpu: cgroup v1 folder ${dir} is not writable; CPU limit not applied`);
  }
}

/**
 * Creates the plan's cgroup folders again and writes the limits into them. An exit removes the
 * folders (removeCgroups), and the launch wrapper joins them, so every start calls this first.
 * Returns the folders it could not prepare.
 */
export function prepareCgroups(dirs: string[], limits: AgentConfig["limits"]): string[] {
  const v1Memory = join(CGROUP_ROOT, "memory") + "/";
  const v1Cpu = join(CGROUP_ROOT, "cpu") + "/";
  return dirs.filter((dir) => {
    if (dir.startsWith(v1Memory)) return !writeV1Memory(dir, limits.memory ?? -1);
    if (dir.startsWith(v1Cpu)) return limits.cpu === undefined || !writeV1Cpu(dir, limits.cpu);
    return writeV2(dir, limits) === null;
  });
}

function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Builds how to launch the agent so that its limits hold from its first instruction. */
export function planLaunch(agent: AgentConfig, instance: string): LaunchPlan {
  const argv = typeof agent.command === "string" ? ["/bin/sh", "-c", agent.command] : [...agent.command];
  const plan: LaunchPlan = {
    file: argv[0] as string,
    args: argv.slice(1),
    cgroups: [],
    applied: [],
    warnings: [],
  };
  const { memory, cpu, files } = agent.limits;
  if (memory === undefined && cpu === undefined && files === undefined) return plan;
  const group = `flotilla-${instance}/${agent.name}`;
  if (memory !== undefined || cpu !== undefined) {
    if (existsSync(join(CGROUP_ROOT, "cgroup.controllers"))) cgroupV2(group, agent.limits, plan);
    else if (existsSync(join(CGROUP_ROOT, "memory"))) cgroupV1(group, agent.limits, plan);
    else plan.warnings.push("memory/cpu: no cgroup filesystem; limits not applied (use the systemd units)");
  }
  // The wrapper shell joins the cgroups and sets rlimits, then execs the agent: limits hold before it runs.
  const steps = plan.cgroups.map((dir) => `echo $$ > ${quote(join(dir, "cgroup.procs"))}`);
  if (files !== undefined) {
    steps.push(`ulimit -n ${files}`);
    plan.applied.push("files: RLIMIT_NOFILE (ulimit -n)");
  }
  steps.push('exec "$@"');
  return { ...plan, file: "/bin/sh", args: ["-c", steps.join(" && "), "flotilla-agent", ...argv] };
}

/** Pids currently in the agent's cgroups. */
export function cgroupPids(dirs: string[]): number[] {
  const pids = new Set<number>();
  for (const dir of dirs) {
    try {
      for (const line of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n"))
        if (line) pids.add(Number(line));
    } catch {
      // folder gone: no pids
    }
  }
  return [...pids];
}

/** Removes the agent's (empty) cgroup folders after it stopped, and the fleet's folder once it is empty. */
export function removeCgroups(dirs: string[]): void {
  for (const dir of [...dirs, ...dirs.map((d) => dirname(d))]) {
    try {
      rmdirSync(dir);
    } catch {
      // still busy (another agent) or already gone; the next start reuses it
    }
  }
}
