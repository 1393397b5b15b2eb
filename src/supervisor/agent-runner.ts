/** One agent's lifecycle: spawn in its own process group, probe health, restart with backoff, stop the whole tree. */
import { type ChildProcess, spawn } from "node:child_process";
import type { AgentConfig } from "../config/schema.ts";
import { probeHealth } from "./health-probe.ts";
import { cgroupPids, type LaunchPlan, prepareCgroups, removeCgroups } from "./limits.ts";
import type { LogSink } from "./log-sink.ts";
import { descendants, findByEnv, isAlive, readProc, signal, signalGroup } from "./process-tree.ts";
import { backoffDelay, createBurstGuard, shouldRestart } from "./restart-policy.ts";

export type AgentState = "stopped" | "starting" | "running" | "backoff" | "failed" | "stopping";

export interface AgentStatus {
  name: string;
  state: AgentState;
  pid: number | null;
  port: number | null;
  uptimeSec: number | null;
  restarts: number;
  health: { ok: boolean | null; latencyMs: number | null; error?: string };
  lastExit: { code: number | null; signal: string | null; at: number } | null;
  /** In backoff: when the next start is due (epoch ms); else null. */
  retryAt: number | null;
  limits: { applied: string[]; warnings: string[] };
  /** How the agent is confined: "sandbox", "user NAME (uid N)", "none", or "flotilla" for Flotilla's own. */
  isolation: string;
}

export interface RunnerDeps {
  agent: AgentConfig;
  env: Record<string, string>;
  launch: LaunchPlan;
  /** The spawned pid is a launcher (bwrap) that ends with the agent: SIGTERM goes to what runs inside it. */
  launcher?: boolean;
  /** How the agent is isolated (shown in status). */
  isolation?: string;
  /** Text written on the process's stdin at each start, then closed (the gateway's secrets); else no stdin. */
  stdin?: () => string | undefined;
  logs: LogSink;
  /** Marks that every process of this agent carries in its environment. */
  marks: Record<string, string>;
  event: (kind: string, data?: Record<string, unknown>) => void;
  /** Called with the pid identity after a spawn, and with null after the agent's processes are gone. */
  onProcess: (proc: { pid: number; pgid: number; startTime: number } | null) => void;
  /** Runs before every start (e.g. writing the startup brief); may return env to add for this start. */
  beforeStart?: () => Record<string, string> | void;
}

const POLL_MS = 50;
const SWEEP_WAIT_MS = 2000;
// A probe result counts as current for its interval plus its timeout (the next probe may be in flight), plus this.
const FRESH_SLACK_MS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createAgentRunner(deps: RunnerDeps) {
  const { agent, logs, event } = deps;
  const burst = createBurstGuard(agent.restart);
  let state: AgentState = "stopped";
  let child: ChildProcess | undefined;
  let startedAt = 0;
  let restarts = 0;
  let failuresInRow = 0;
  let probeFailures = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopRequested = false;
  let exitWaiters: Array<() => void> = [];
  let health: AgentStatus["health"] = { ok: null, latencyMs: null };
  let healthAt = 0;
  let retryAt: number | null = null;
  let lastExit: AgentStatus["lastExit"] = null;

  function setState(next: AgentState, data: Record<string, unknown> = {}): void {
    if (next === state) return;
    state = next;
    event(`agent.${next}`, data);
  }

  function clearTimer(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    retryAt = null;
  }

  /** The last probe's result while it means something: the agent's process is up and the probe is recent. */
  function currentHealth(): AgentStatus["health"] {
    const fresh = Date.now() - healthAt <= agent.health.interval + agent.health.timeout + FRESH_SLACK_MS;
    const up = state === "running" || state === "starting";
    return up && fresh ? health : { ok: null, latencyMs: null };
  }

  function spawnAgent(): void {
    clearTimer();
    const extraEnv = deps.beforeStart?.();
    stopRequested = false;
    probeFailures = 0;
    health = { ok: null, latencyMs: null };
    burst.record(Date.now());
    // The last exit removed the cgroup folders that the launch wrapper joins: make them again.
    for (const dir of prepareCgroups(deps.launch.cgroups, agent.limits))
      logs.note(`cannot prepare cgroup ${dir}; this start will fail`);
    const input = deps.stdin?.();
    const proc = spawn(deps.launch.file, deps.launch.args, {
      cwd: agent.workspace,
      env: extraEnv ? { ...deps.env, ...extraEnv } : deps.env,
      detached: true,
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    child = proc;
    if (input !== undefined) {
      proc.stdin?.on("error", () => {}); // a process that exits before reading fails on its own
      proc.stdin?.end(input);
    }
    proc.stdout?.on("data", (chunk: Buffer) => logs.write("stdout", chunk));
    proc.stderr?.on("data", (chunk: Buffer) => logs.write("stderr", chunk));
    proc.once("error", (err) => {
      if (proc.pid !== undefined) return; // errors after spawn also surface as exit
      child = undefined;
      logs.note(`cannot start: ${err.message}`);
      setState("failed", { reason: "spawn", error: err.message });
    });
    proc.once("exit", (code, sig) => void onExit(proc, code, sig));
    if (proc.pid === undefined) return;
    startedAt = Date.now();
    const info = readProc(proc.pid);
    deps.onProcess({ pid: proc.pid, pgid: info?.pgid ?? proc.pid, startTime: info?.startTime ?? 0 });
    logs.note(`started pid ${proc.pid}: ${JSON.stringify(agent.command)}`);
    setState("starting", { pid: proc.pid });
    scheduleProbe(0);
  }

  function scheduleProbe(delay: number): void {
    clearTimer();
    timer = setTimeout(() => void runProbe(), delay);
  }

  async function runProbe(): Promise<void> {
    const proc = child;
    if (!proc || (state !== "starting" && state !== "running")) return;
    const result = await probeHealth(agent);
    if (child !== proc || (state !== "starting" && state !== "running")) return;
    health = { ok: result.ok, latencyMs: result.latencyMs, ...(result.error ? { error: result.error } : {}) };
    healthAt = Date.now();
    if (result.ok) {
      probeFailures = 0;
      if (state === "starting") setState("running", { pid: proc.pid, latencyMs: result.latencyMs });
    } else if (state === "starting" && Date.now() - startedAt > agent.health.grace) {
      return void restartUnhealthy(
        `not healthy within the ${agent.health.grace}ms grace period (${result.error})`,
      );
    } else if (state === "running" && ++probeFailures >= agent.health.failures) {
      return void restartUnhealthy(`${probeFailures} failed probes in a row (${result.error})`);
    }
    scheduleProbe(state === "starting" ? Math.min(agent.health.interval, 500) : agent.health.interval);
  }

  async function restartUnhealthy(reason: string): Promise<void> {
    logs.note(`unhealthy: ${reason}; restarting`);
    event("agent.unhealthy", { reason });
    await terminate();
    afterFailure({ code: null, signal: "unhealthy" });
  }

  async function onExit(proc: ChildProcess, code: number | null, sig: NodeJS.Signals | null): Promise<void> {
    logs.flushPartial();
    lastExit = { code, signal: sig, at: Date.now() };
    logs.note(`exited code=${code} signal=${sig}`);
    await sweep(proc.pid as number, "SIGKILL");
    if (child === proc) child = undefined;
    deps.onProcess(null);
    removeCgroups(deps.launch.cgroups);
    const waiters = exitWaiters;
    exitWaiters = [];
    for (const resolve of waiters) resolve();
    if (stopRequested) return;
    event("agent.exited", { code, signal: sig, uptimeMs: Date.now() - startedAt });
    if (!shouldRestart(agent.restart.policy, { code, signal: sig })) {
      return setState(code === 0 && sig === null ? "stopped" : "failed", {
        reason: "exit",
        code,
        signal: sig,
      });
    }
    afterFailure({ code, signal: sig }, lastExit.at);
  }

  /** Restarts after the backoff delay, counted from `failedAt` (the exit), or gives up on a crash loop. */
  function afterFailure(exit: { code: number | null; signal: string | null }, failedAt = Date.now()): void {
    if (agent.restart.policy === "never") {
      setState("failed", exit);
      return;
    }
    const now = Date.now();
    if (now - startedAt >= agent.restart.resetAfter) failuresInRow = 0;
    if (burst.exceeded(now)) {
      const { count, windowMs } = agent.restart.burst;
      logs.note(
        `crash loop: ${count} starts within ${windowMs}ms; giving up until an operator starts it again`,
      );
      process.emitWarning(`agent ${agent.name} entered failed: ${count} starts within ${windowMs}ms`);
      setState("failed", { reason: "burst", ...exit });
      return;
    }
    failuresInRow++;
    const delay = backoffDelay(agent.restart, failuresInRow);
    setState("backoff", { delayMs: delay, attempt: failuresInRow, ...exit });
    clearTimer();
    const wait = Math.max(0, delay - (Date.now() - failedAt));
    retryAt = Date.now() + wait;
    timer = setTimeout(() => {
      retryAt = null;
      restarts++;
      event("agent.restarted", { attempt: failuresInRow, delayMs: delay });
      spawnAgent();
    }, wait);
  }

  /** Every live process of this agent: the group, descendants by parent pid, env-marked strays, cgroup members. */
  function members(pid: number): number[] {
    const pids = new Set<number>([pid]);
    for (const p of descendants(pid)) pids.add(p.pid);
    for (const p of findByEnv(deps.marks)) pids.add(p.pid);
    for (const p of cgroupPids(deps.launch.cgroups)) pids.add(p);
    return [...pids].filter((p) => isAlive(p));
  }

  /**
   * Signals the group and every member; with SIGKILL, waits until all are gone. A launcher is spared the
   * graceful signal: it exits once the agent inside it has, and its early death would kill the agent.
   */
  async function sweep(pid: number, sig: NodeJS.Signals): Promise<void> {
    const spare = deps.launcher && sig !== "SIGKILL";
    if (!spare) signalGroup(pid, sig);
    for (const p of members(pid)) if (!spare || p !== pid) signal(p, sig);
    if (sig !== "SIGKILL") return;
    const deadline = Date.now() + SWEEP_WAIT_MS;
    while (Date.now() < deadline) {
      const left = members(pid).filter((p) => p !== pid || isAlive(pid));
      if (left.length === 0) return;
      for (const p of left) signal(p, "SIGKILL");
      await sleep(POLL_MS);
    }
  }

  /** SIGTERM the tree, wait stopTimeout, then SIGKILL; resolves when the main process has exited. */
  async function terminate(): Promise<void> {
    clearTimer();
    const proc = child;
    stopRequested = true;
    if (!proc || proc.pid === undefined) return;
    const exited = new Promise<void>((resolve) => exitWaiters.push(resolve));
    await sweep(proc.pid, "SIGTERM");
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), agent.stopTimeout);
    });
    if ((await Promise.race([exited.then(() => "exited" as const), timeout])) === "timeout") {
      logs.note(`still running ${agent.stopTimeout}ms after SIGTERM; sending SIGKILL`);
      event("agent.killed", { pid: proc.pid, afterMs: agent.stopTimeout });
      await sweep(proc.pid, "SIGKILL");
      await exited;
    }
    clearTimer();
  }

  return {
    name: agent.name,
    /** Starts the agent unless it is already up; a failed agent starts afresh. */
    start(): void {
      if (state === "starting" || state === "running" || state === "stopping") return;
      if (state === "failed") {
        burst.reset();
        failuresInRow = 0;
      }
      spawnAgent();
    },
    async stop(): Promise<void> {
      clearTimer();
      if (!child) {
        stopRequested = true;
        return setState("stopped");
      }
      setState("stopping");
      await terminate();
      setState("stopped");
    },
    async restart(): Promise<void> {
      await this.stop();
      restarts++;
      event("agent.restarted", { manual: true });
      burst.reset();
      failuresInRow = 0;
      spawnAgent();
    },
    status(): AgentStatus {
      return {
        name: agent.name,
        state,
        pid: child?.pid ?? null,
        port: agent.port ?? null,
        uptimeSec:
          child && (state === "running" || state === "starting")
            ? Math.floor((Date.now() - startedAt) / 1000)
            : null,
        restarts,
        health: currentHealth(),
        lastExit,
        retryAt: state === "backoff" ? retryAt : null,
        limits: { applied: deps.launch.applied, warnings: deps.launch.warnings },
        isolation: deps.isolation ?? "none",
      };
    },
  };
}

export type AgentRunner = ReturnType<typeof createAgentRunner>;
