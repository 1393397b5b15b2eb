/**
 * The processes bench/gateway measures: the simulator upstream, Flotilla's gateway (the real `flotilla
 * gateway -c FILE`), Portkey's gateway (installed on first use into bench/gateway/portkey) and the minimal
 * proxy. Each runs as its own child process on 127.0.0.1, so each has its own event loop and RSS.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GATEWAY_NODE_FLAGS } from "../../src/fleet/fleet-wiring.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = join(HERE, "../..");
const BIN = join(ROOT, "bin/flotilla.js");
const NODE = process.execPath;
const PORTKEY_DIR = join(HERE, "portkey");
const PORTKEY_MAIN = join(PORTKEY_DIR, "node_modules/@portkey-ai/gateway/build/start-server.js");

export interface Running {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });
}

/** Spawns `args` and resolves once its stdout holds a JSON object with a `url`. */
function spawnWithUrl(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const child = spawn(NODE, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within 30s: ${stderr}`));
    }, 30_000);
    child.once("exit", (code) => reject(new Error(`${name} exited (${code}) before it listened: ${stderr}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      let url: string | undefined;
      try {
        url = (JSON.parse(out) as { url?: string }).url;
      } catch {
        return; // not all of the JSON yet
      }
      if (!url) return;
      clearTimeout(timer);
      resolve({ name, url, pid: child.pid as number, stop: stopper(child) });
    });
  });
}

/** The project's simulator with zero latency, accepting any key, no limits. */
export function startSimulator(dir: string): Promise<Running> {
  const file = join(dir, "sim.yaml");
  writeFileSync(file, "acceptAnyKey: true\nlatency: { firstTokenMs: 0, jitterMs: 0 }\nchunkDelayMs: 0\n");
  return spawnWithUrl("simulator", [BIN, "sim", "--listen", "127.0.0.1:0", "--sim-config", file, "--json"]);
}

/** The minimal pass-through proxy, with undici's request API or node:http's client behind it. */
export function startMinimalProxy(upstream: string, client: "undici" | "http"): Promise<Running> {
  return spawnWithUrl(`minimal proxy (${client})`, [join(HERE, "minimal-proxy.ts"), upstream, client]);
}

/**
 * Flotilla's gateway with every feature on: two keys under generous limits (requests, tokens, per minute
 * and hour, concurrency), prices and a daily budget (accounting), the middle-out context guard, and two
 * chains: `sim-large` (primary → fallback, both alive) and `dead-first` (a primary that refuses connections).
 */
export async function startFlotilla(dir: string, upstream: string): Promise<Running & { key: string }> {
  const deadPort = await freePort();
  const file = join(dir, "flotilla.yaml");
  const limits = "{ rpm: 1000000, tpm: 1000000000, rph: 10000000, tph: 10000000000, concurrency: 1000 }";
  const prices = "{ sim-large: { input: 3, output: 15 }, sim-small: { input: 0.25, output: 1.25 } }";
  writeFileSync(
    file,
    `version: 1
stateDir: ./state
gateway: { listen: "127.0.0.1:0", contextStrategy: middle-out, queueTimeout: 30s }
providers:
  - id: sim
    kind: openai
    baseUrl: ${upstream}/v1
    keys: [{ env: BENCH_KEY_A }, { env: BENCH_KEY_B }]
    limits: ${limits}
    prices: ${prices}
  - id: dead
    kind: openai
    baseUrl: http://127.0.0.1:${deadPort}/v1
    keys: [{ env: BENCH_KEY_A }]
    limits: ${limits}
    prices: ${prices}
models:
  sim-large: [{ provider: sim, model: sim-large }, { provider: sim, model: sim-small, tier: fallback }]
  dead-first: [{ provider: dead, model: sim-large }, { provider: sim, model: sim-large }]
agents:
  - { name: bench, command: x, workspace: ./ws, role: coder, model: sim-large, budget: { daily: 1000000 } }
`,
  );
  const env = { ...process.env, BENCH_KEY_A: "sk-bench-a", BENCH_KEY_B: "sk-bench-b" };
  const keyJson = execFileSync(NODE, [BIN, "key", "bench", "-c", file, "--json"], { env }).toString();
  const { key } = JSON.parse(keyJson) as { key: string };
  // With the Node flags the daemon starts it with.
  const args = [...GATEWAY_NODE_FLAGS, BIN, "gateway", "-c", file, "--json"];
  const running = await spawnWithUrl("flotilla", args, env);
  return { ...running, key };
}

/** Installs Portkey's gateway into bench/gateway/portkey once (npm, with the @hono/node-server override). */
export function ensurePortkey(log: (line: string) => void): string {
  if (!existsSync(PORTKEY_MAIN)) {
    log("installing @portkey-ai/gateway into bench/gateway/portkey (once)...");
    // npm runs under the Node that runs this bench (Node 24), first on PATH.
    const path = `${dirname(NODE)}:${process.env.PATH ?? ""}`;
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts"], {
      cwd: PORTKEY_DIR,
      env: { ...process.env, PATH: path },
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
  const pkg = join(PORTKEY_DIR, "node_modules/@portkey-ai/gateway/package.json");
  return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
}

/** Portkey's gateway, headless, forced onto 127.0.0.1 by a preloaded module (it has no host flag). */
export async function startPortkey(): Promise<Running> {
  const port = await freePort();
  const child = spawn(
    NODE,
    ["--import", join(HERE, "loopback.mjs"), PORTKEY_MAIN, `--port=${port}`, "--headless"],
    { cwd: PORTKEY_DIR, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Portkey exited (${child.exitCode}): ${stderr}`);
    const up = await fetch(url, { signal: AbortSignal.timeout(500) }).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`Portkey did not listen within 30s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { name: "portkey", url, pid: child.pid as number, stop: stopper(child) };
}

/** CPU time (user + system) a process has used so far, in ms; /proc counts in clock ticks of 10 ms. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident set size of a process, in MB (VmRSS). */
export function rssMb(pid: number): number {
  const line =
    readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("VmRSS:")) ?? "";
  return Math.round((Number(line.replace(/\D/g, "")) / 1024) * 10) / 10;
}
