/**
 * Supervisor benchmark, Flotilla against pm2 in the same run: time from a SIGKILL to the agent being
 * healthy again (minus the configured restart delay), and the daemon's RSS with six agents.
 * Each repeat runs both tools, alternating which goes first, so machine noise falls on both alike.
 * Usage: npm run bench:supervisor [-- --repeats 3 --rounds 5 --json]
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin/flotilla.js");
const PM2 = join(ROOT, "node_modules/pm2/bin/pm2");
const AGENT = join(ROOT, "examples/agents/example-agent.ts");
const NODE = process.execPath;
const ROLES = ["coordinator", "coder", "reviewer", "deployer", "researcher", "qa"];
const DELAY_MS = 1000;

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    repeats: { type: "string", default: "3" },
    json: { type: "boolean" },
  },
});
const ROUNDS = Number(values.rounds);
const REPEATS = Number(values.repeats);

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { env, timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${args.join(" ")}: ${stderr}`)) : resolve(stdout),
    ),
  );
}

async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    ports.push(
      await new Promise<number>((resolve) => {
        const server = createServer().listen(0, "127.0.0.1", () => {
          const { port } = server.address() as { port: number };
          server.close(() => resolve(port));
        });
      }),
    );
  }
  return ports;
}

async function healthPid(port: number): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(500) });
    return res.ok ? ((await res.json()) as { pid: number }).pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitHealthy(port: number, notPid?: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pid = await healthPid(port);
    if (pid !== undefined && pid !== notPid) return pid;
    if (Date.now() > deadline) throw new Error(`port ${port} not healthy within ${timeoutMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function rssMb(pid: number): number {
  const line =
    readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("VmRSS:")) ?? "";
  return Math.round((Number(line.replace(/\D/g, "")) / 1024) * 10) / 10;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Kills the first agent ROUNDS times and measures kill → healthy-with-new-pid, minus the delay. */
async function recoveryTimes(ports: number[]): Promise<number[]> {
  const times: number[] = [];
  const port = ports[1] as number;
  for (let round = 0; round < ROUNDS; round++) {
    const pid = await waitHealthy(port);
    const killedAt = performance.now();
    process.kill(pid, "SIGKILL");
    await waitHealthy(port, pid);
    times.push(Math.round((performance.now() - killedAt - DELAY_MS) * 10) / 10);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // past pm2's min_uptime and our backoff reset
  }
  return times;
}

async function benchFlotilla(dir: string): Promise<{ recoveryMs: number[]; rssMb: number }> {
  const ports = await freePorts(ROLES.length);
  const agents = ROLES.map(
    (role, i) => `  - name: ${role}
    command: [${JSON.stringify(NODE)}, ${JSON.stringify(AGENT)}]
    port: ${ports[i]}
    workspace: ./ws/${role}
    restart: { delay: ${DELAY_MS}ms, maxDelay: ${DELAY_MS}ms, burst: 100/1m, resetAfter: 1s }
    health: { http: /health, interval: 1s }`,
  );
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, `version: 1\nstateDir: ./state\nagents:\n${agents.join("\n")}\n`);
  await run(NODE, [BIN, "up", "--detach", "--json", "-c", file]);
  try {
    await Promise.all(ports.map((p) => waitHealthy(p)));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const daemonPid = (JSON.parse(readFileSync(join(dir, "state/daemon.json"), "utf8")) as { pid: number })
      .pid;
    const rss = rssMb(daemonPid);
    return { recoveryMs: await recoveryTimes(ports), rssMb: rss };
  } finally {
    await run(NODE, [BIN, "down", "-c", file]);
  }
}

async function benchPm2(dir: string): Promise<{ recoveryMs: number[]; rssMb: number }> {
  const ports = await freePorts(ROLES.length);
  const env = { ...process.env, PM2_HOME: join(dir, "pm2") };
  const apps = ROLES.map((role, i) => ({
    name: role,
    script: AGENT,
    interpreter: NODE,
    cwd: dir,
    env: { PORT: String(ports[i]), FLOTILLA_AGENT_NAME: role },
    restart_delay: DELAY_MS,
    autorestart: true,
    max_restarts: 100,
    min_uptime: 1000,
  }));
  const ecosystem = join(dir, "ecosystem.config.cjs");
  writeFileSync(ecosystem, `module.exports = ${JSON.stringify({ apps }, null, 2)};\n`);
  await run(NODE, [PM2, "start", ecosystem], env);
  try {
    await Promise.all(ports.map((p) => waitHealthy(p)));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const godPid = Number(readFileSync(join(dir, "pm2/pm2.pid"), "utf8"));
    const rss = rssMb(godPid);
    return { recoveryMs: await recoveryTimes(ports), rssMb: rss };
  } finally {
    await run(NODE, [PM2, "kill"], env);
  }
}

const pm2Version = (
  JSON.parse(readFileSync(join(ROOT, "node_modules/pm2/package.json"), "utf8")) as { version: string }
).version;
const tools = [
  ["flotilla", benchFlotilla],
  [`pm2 ${pm2Version}`, benchPm2],
] as const;
const results: Record<string, { recoveryMs: number[]; rssMb: number[] }> = {};
for (let repeat = 0; repeat < REPEATS; repeat++) {
  for (const [name, bench] of repeat % 2 === 0 ? tools : [...tools].reverse()) {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-"));
    try {
      if (!values.json)
        process.stderr.write(`repeat ${repeat + 1}/${REPEATS}: ${name} (${ROUNDS} kills)...\n`);
      const r = await bench(dir);
      const entry = (results[name] ??= { recoveryMs: [], rssMb: [] });
      entry.recoveryMs.push(...r.recoveryMs);
      entry.rssMb.push(r.rssMb);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] ?? Number.NaN;
const summary = Object.fromEntries(
  Object.entries(results).map(([name, r]) => [
    name,
    {
      recoveryMedianMs: median(r.recoveryMs),
      recoveryP90Ms: p90(r.recoveryMs),
      rssMedianMb: median(r.rssMb),
      ...r,
    },
  ]),
);
if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ delayMs: DELAY_MS, rounds: ROUNDS, repeats: REPEATS, summary }, null, 2)}\n`,
  );
} else {
  process.stdout.write(
    `six example agents each, restart delay ${DELAY_MS} ms, ${REPEATS}×${ROUNDS} SIGKILLs, Node ${process.version}\n`,
  );
  process.stdout.write(
    "supervisor        crash→healthy minus delay: median   p90     daemon RSS (median of repeats)\n",
  );
  for (const [name, r] of Object.entries(summary)) {
    process.stdout.write(
      `${name.padEnd(18)}${String(r.recoveryMedianMs).padStart(27)} ms ${String(r.recoveryP90Ms).padStart(6)} ms  ${r.rssMedianMb} MB  [${r.rssMb.join(", ")}]\n`,
    );
  }
}
