/** Test helpers: temp fleet folders, running the real CLI as a child process, free ports, polling. */
import { execFile } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { type AddressInfo, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";

import { descendants } from "../../src/supervisor/process-tree.ts";

export { isAlive as pidAlive } from "../../src/supervisor/process-tree.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = join(ROOT, "bin/flotilla.js");
export const EXAMPLE_AGENT = join(ROOT, "examples/agents/example-agent.ts");
export const NODE = process.execPath;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `flotilla ARGS` with Node 24 and returns its exit code and output. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      [BIN, ...args],
      { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs `flotilla ARGS` on a terminal (through `script`) and returns what the terminal showed. */
export function runOnTerminal(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const command = [NODE, BIN, ...args].map((a) => `'${a}'`).join(" ");
  return new Promise((resolve) => {
    execFile("script", ["-qec", command, "/dev/null"], { env, timeout: 60_000 }, (_err, stdout) =>
      resolve(stdout),
    );
  });
}

/**
 * Where test fleets live: not under /tmp, since a sandboxed agent gets a private /tmp and would not see
 * the scripts and files a test puts beside its fleet (its own workspace is bound in wherever it is).
 */
export const FLEETS_DIR = existsSync("/var/tmp") ? "/var/tmp" : tmpdir();

/** A temp folder with flotilla.yaml; `flotilla down` and removal run after the test. */
export function fleetDir(t: TestContext, yaml: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-test-"));
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, yaml);
  t.after(async () => {
    await runCli(["down", "-c", file]);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, file };
}

/** Ports that were free a moment ago (bound and released on 127.0.0.1). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve) => {
          const server = createServer();
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Polls until check returns a value that is not undefined/false, or fails naming what it waited for. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs}ms waiting for ${what}${last ? ` (${String(last)})` : ""}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface AgentRow {
  name: string;
  state: string;
  pid: number | null;
  port: number | null;
  uptimeSec: number | null;
  restarts: number;
  health: { ok: boolean | null; latencyMs: number | null };
  /** In strict mode (after a self-reported violation). */
  strict?: boolean;
}

/** `flotilla status --json` as rows. */
export async function status(file: string): Promise<AgentRow[]> {
  const result = await runCli(["status", "--json", "-c", file]);
  if (result.code !== 0) throw new Error(`status failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { agents: AgentRow[] }).agents;
}

/** A one-line node program as an argv command. */
export function nodeScript(code: string): string[] {
  return [NODE, "-e", code];
}

/**
 * The host pid of a process an agent reported as `innerPid`: inside a sandbox an agent sees its own PID
 * namespace's numbers. Looks for the process in the namespace of the agent's launcher's deepest
 * descendant (the launcher itself when unsandboxed, where the two pids are the same).
 */
export function hostPid(innerPid: number, launcherPid: number): number {
  const chain = [launcherPid, ...descendants(launcherPid).map((p) => p.pid)];
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${chain.at(-1)}/ns/pid`);
  } catch {
    return innerPid;
  }
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== ns) continue;
      const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1];
      if (Number(nspid?.trim().split(/\s+/).at(-1)) === innerPid) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return innerPid;
}

/**
 * A fleet's gateway in front of the provider simulator: one provider `sim` whose key comes from the
 * `keyEnv` variable (the simulator accepts `sim-key`, or any key with `more.acceptAnyKey`), and the logical
 * model `main`. `more.script` gives the simulator scripted answers; `more.models` adds logical models (name →
 * upstream model on `sim`).
 */
export function simulatedGateway(
  gatewayPort: number,
  simPort: number,
  keyEnv = "SIM_KEY",
  more: { script?: unknown[]; models?: Record<string, string>; acceptAnyKey?: boolean } = {},
): string {
  const script = `${more.acceptAnyKey ? ", acceptAnyKey: true" : ""}${more.script ? `, script: ${JSON.stringify(more.script)}` : ""}`;
  const models = Object.entries(more.models ?? {})
    .map(([name, model]) => `  ${name}: [{ provider: sim, model: ${model} }]\n`)
    .join("");
  return `gateway: { listen: 127.0.0.1:${gatewayPort} }
simulator: { listen: 127.0.0.1:${simPort}, keys: { sim-key: { rpm: 600 } }${script} }
providers:
  - { id: sim, kind: openai, baseUrl: http://127.0.0.1:${simPort}/v1, keys: [{ env: ${keyEnv} }] }
models:
  main: [{ provider: sim, model: sim-small }]
${models}`;
}

/** Waits until every process of the fleet (agents and Flotilla's own) runs; returns the rows. */
export function allRunning(file: string): Promise<AgentRow[]> {
  return waitFor(async () => {
    const rows = await status(file);
    return rows.length > 0 && rows.every((r) => r.state === "running") ? rows : undefined;
  }, "the fleet running");
}
