/** Runs the gateway as a real child process on 127.0.0.1:0, to read its RSS and probe its event loop from outside. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { ensureGatewaySecret, virtualKey } from "../../src/gateway/virtual-keys.ts";

export interface GatewayProcess {
  url: string;
  port: number;
  child: ChildProcess;
  key(agent: string): string;
  /** The process's resident set, in MB (from /proc). */
  rssMb(): number;
  /** Whether it still runs. */
  alive(): boolean;
}

const CHILD = join(import.meta.dirname, "gateway-child.ts");

/** Starts a gateway process for `yaml` (stateDir is set for you) with `env` added; stopped after the test. */
export async function spawnGateway(
  t: TestContext,
  yaml: string,
  env: Record<string, string> = {},
): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-gwp-"));
  const stateDir = join(dir, "state");
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  ensureGatewaySecret(stateDir);
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, `stateDir: ${JSON.stringify(stateDir)}\n${yaml}`);
  const child = spawn(process.execPath, [CHILD, file], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let exited = false;
  child.once("exit", () => (exited = true));
  t.after(async () => {
    if (!exited) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
    rmSync(dir, { recursive: true, force: true });
  });
  // The first line says where it listens; an exit before it (a crash at start) fails the test at once.
  const [line] = (await Promise.race([
    once(child.stdout as NodeJS.ReadableStream, "data"),
    once(child, "exit").then(([code]) => {
      throw new Error(`the gateway process exited (${String(code)}) before it listened`);
    }),
  ])) as [Buffer];
  const { port } = JSON.parse(line.toString()) as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    key: (agent) => virtualKey(stateDir, agent),
    rssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    },
    alive: () => !exited,
  };
}

/** CPU time (ms) the process's main thread has used: utime + stime of /proc/PID/task/PID/stat, in 10 ms ticks. */
function mainThreadCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export interface HealthProbe {
  /** The slowest answer (ms, wall clock). */
  slowestMs: number;
  /**
   * The slowest answer during which the gateway's main thread was itself busy for 50 ms or more: an
   * event loop blocked by the gateway's own work. A slow answer while the main thread was mostly idle
   * is the machine's scheduler (2 shared cores), not the gateway.
   */
  stalledMs: number;
  answers: number;
}

/**
 * Asks `/healthz` over and over (each ask as soon as the last answer came) until stopped, timing each
 * answer and reading how much CPU the gateway's main thread used meanwhile.
 */
export function probeHealth(gw: { url: string; child: ChildProcess }): { stop(): Promise<HealthProbe> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const pid = gw.child.pid as number;
  let running = true;
  const result: HealthProbe = { slowestMs: 0, stalledMs: 0, answers: 0 };
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const cpuBefore = mainThreadCpuMs(pid);
      await new Promise<void>((resolve, reject) => {
        request(`${gw.url}/healthz`, { agent }, (res) => {
          res.resume();
          res.once("end", resolve);
        })
          .once("error", reject)
          .end();
      });
      const ms = performance.now() - started;
      const busyMs = mainThreadCpuMs(pid) - cpuBefore;
      result.slowestMs = Math.max(result.slowestMs, ms);
      if (busyMs >= 50) result.stalledMs = Math.max(result.stalledMs, ms);
      result.answers++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return result;
    },
  };
}
