/**
 * Supervisor benchmark, Flotilla against pm2 in the same run: time from a SIGKILL to the agent being
 * healthy again (minus the configured restart delay), and the daemon's RSS with six agents. Flotilla runs
 * twice, with its agents sandboxed (the default) and unisolated, so the sandbox's added start time shows.
 * Each repeat runs every tool, rotating which goes first, so machine noise falls on all alike.
 * Usage: npm run bench:supervisor [-- --repeats 3 --rounds 5 --json]
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { descendants } from "../../src/supervisor/process-tree.ts";

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

/** The start the agent on this port answers for (its start time: pids repeat inside a sandbox). */
async function healthStart(port: number): Promise<{ pid: number; startedAt: number } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(500) });
    return res.ok ? ((await res.json()) as { pid: number; startedAt: number }) : undefined;
  } catch {
    return undefined;
  }
}

async function waitHealthy(
  port: number,
  notStartedAt?: number,
  timeoutMs = 30_000,
): Promise<{ pid: number; startedAt: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const start = await healthStart(port);
    if (start !== undefined && start.startedAt !== notStartedAt) return start;
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

/**
 * Kills the second agent ROUNDS times and measures kill → healthy again, minus the delay. `hostPid` finds
 * the agent's own process as the host sees it (inside a sandbox the pid it reports is its namespace's).
 */
async function recoveryTimes(
  ports: number[],
  hostPid: (reported: number) => Promise<number>,
): Promise<number[]> {
  const times: number[] = [];
  const port = ports[1] as number;
  for (let round = 0; round < ROUNDS; round++) {
    const start = await waitHealthy(port);
    const pid = await hostPid(start.pid);
    const killedAt = performance.now();
    process.kill(pid, "SIGKILL");
    await waitHealthy(port, start.startedAt);
    times.push(Math.round((performance.now() - killedAt - DELAY_MS) * 10) / 10);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // past pm2's min_uptime and our backoff reset
  }
  return times;
}

/** The agent's deepest process under the launcher the daemon reports (bwrap → its init → the agent). */
async function flotillaAgentPid(file: string, name: string): Promise<number> {
  const status = JSON.parse(await run(NODE, [BIN, "status", "--json", "-c", file])) as {
    agents: Array<{ name: string; pid: number | null }>;
  };
  const launcher = status.agents.find((a) => a.name === name)?.pid;
  if (!launcher) throw new Error(`${name} has no pid`);
  return descendants(launcher).at(-1)?.pid ?? launcher;
}

async function benchFlotilla(
  dir: string,
  isolation: "sandbox" | "none",
): Promise<{ recoveryMs: number[]; rssMb: number }> {
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
  writeFileSync(
    file,
    `version: 1\nstateDir: ./state\nisolation: ${isolation}\nagents:\n${agents.join("\n")}\n`,
  );
  await run(NODE, [BIN, "up", "--detach", "--json", "-c", file]);
  try {
    await Promise.all(ports.map((p) => waitHealthy(p)));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const daemonPid = (JSON.parse(readFileSync(join(dir, "state/daemon.json"), "utf8")) as { pid: number })
      .pid;
    const rss = rssMb(daemonPid);
    const victim = ROLES[1] as string;
    return { recoveryMs: await recoveryTimes(ports, () => flotillaAgentPid(file, victim)), rssMb: rss };
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
    return { recoveryMs: await recoveryTimes(ports, async (reported) => reported), rssMb: rss };
  } finally {
    await run(NODE, [PM2, "kill"], env);
  }
}

const pm2Version = (
  JSON.parse(readFileSync(join(ROOT, "node_modules/pm2/package.json"), "utf8")) as { version: string }
).version;
const tools: Array<[string, (dir: string) => Promise<{ recoveryMs: number[]; rssMb: number }>]> = [
  ["flotilla sandbox", (dir) => benchFlotilla(dir, "sandbox")],
  ["flotilla none", (dir) => benchFlotilla(dir, "none")],
  [`pm2 ${pm2Version}`, benchPm2],
];
const results: Record<string, { recoveryMs: number[]; rssMb: number[] }> = {};
for (let repeat = 0; repeat < REPEATS; repeat++) {
  const order = [...tools.slice(repeat % tools.length), ...tools.slice(0, repeat % tools.length)];
  for (const [name, bench] of order) {
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

/** What bubblewrap alone adds to a start: `true` run bare and in the agents' sandbox shape, 30 times each. */
function sandboxStartMs(): { bareMs: number; sandboxMs: number } {
  const time = (file: string, args: string[]) => {
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      spawnSync(file, args);
      samples.push(performance.now() - started);
    }
    return Math.round(median(samples) * 100) / 100;
  };
  const shape = [
    "--unshare-pid",
    "--unshare-ipc",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--tmpfs",
    "/tmp",
  ];
  return { bareMs: time("/bin/true", []), sandboxMs: time("bwrap", [...shape, "/bin/true"]) };
}
const sandboxStart = sandboxStartMs();

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
    `${JSON.stringify({ delayMs: DELAY_MS, rounds: ROUNDS, repeats: REPEATS, sandboxStart, summary }, null, 2)}\n`,
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
  const sandboxed = summary["flotilla sandbox"]?.recoveryMedianMs ?? Number.NaN;
  const bare = summary["flotilla none"]?.recoveryMedianMs ?? Number.NaN;
  process.stdout.write(
    `sandbox added to crash→healthy: ${Math.round((sandboxed - bare) * 10) / 10} ms (median vs median); bwrap alone: /bin/true ${sandboxStart.bareMs} ms bare, ${sandboxStart.sandboxMs} ms in the sandbox shape (median of 30)\n`,
  );
}
