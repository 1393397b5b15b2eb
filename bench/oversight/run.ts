/**
 * Oversight benchmark: one run's wall time and judge tokens with the full check list, for six agents with a
 * day of realistic history (thousands of gateway requests with a tool-call loop in one agent, restarts, a
 * hand edit, a git repo under repos[], a transcript under oversight.transcripts) and for an idle fleet;
 * then the daemon's RSS with oversight on, beside pm2's God daemon in the same run.
 * Usage: npm run bench:oversight [-- --repeats 3 --json]
 */
import { execFile, execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway/gateway.ts";
import { ensureGatewaySecret } from "../../src/gateway/virtual-keys.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import type { Store } from "../../src/ledger/store.ts";
import { createChecks } from "../../src/oversight/checks/index.ts";
import { createOversight } from "../../src/oversight/runner.ts";
import { createSimulator } from "../../src/sim/simulator.ts";
import type { AgentStatus } from "../../src/supervisor/agent-runner.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin/flotilla.js");
const PM2 = join(ROOT, "node_modules/pm2/bin/pm2");
const AGENT = join(ROOT, "examples/agents/example-agent.ts");
const NODE = process.execPath;
const ROLES = ["coordinator", "coder", "reviewer", "deployer", "researcher", "qa"];
const HOUR = 3_600_000;
const EVERY = 5 * 60_000;

const { values } = parseArgs({
  options: { repeats: { type: "string", default: "3" }, json: { type: "boolean" } },
});
const REPEATS = Number(values.repeats);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { env, timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${args.join(" ")}: ${stderr}`)) : resolve(stdout),
    ),
  );
}

function rssMb(pid: number): number {
  const line =
    readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("VmRSS:")) ?? "";
  return Math.round((Number(line.replace(/\D/g, "")) / 1024) * 10) / 10;
}

/** A git repo with a day of commits, configured under repos[]. */
function gitRepo(dir: string): string {
  const repo = join(dir, "repo");
  mkdirSync(repo);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "ignore" });
  git("init", "-q", "-b", "main");
  git("config", "user.email", "bench@example.invalid");
  git("config", "user.name", "bench");
  for (let i = 0; i < 40; i++) {
    writeFileSync(join(repo, `file-${i % 8}.txt`), `change ${i}\n`);
    git("add", "-A");
    git("commit", "-q", "-m", `change ${i}: adjust file ${i % 8}`);
  }
  return repo;
}

/** Six agents, a repo and a transcript; the history is written by `history`. The judge runs `judge` on the simulator behind an in-process gateway. */
function fleet(dir: string, simUrl: string) {
  const repo = gitRepo(dir);
  const transcript = join(dir, "coordinator.jsonl");
  const lines: string[] = [];
  for (let i = 0; i < 200; i++)
    lines.push(
      JSON.stringify({ role: i % 2 ? "assistant" : "user", content: `turn ${i}: status of task ${i % 17}` }),
    );
  writeFileSync(transcript, `${lines.join("\n")}\n`);
  writeFileSync(
    join(dir, "constitution.md"),
    "# Constitution\n\n## Article I: Quality comes before speed\n\nTests first.\n",
  );
  writeFileSync(
    join(dir, "flotilla.yaml"),
    `version: 1
stateDir: ./state
gateway: { listen: "127.0.0.1:0" }
providers:
  - { id: sim, kind: openai, baseUrl: ${simUrl}/v1, keys: [{ env: BENCH_SIM_KEY }] }
models:
  main: [{ provider: sim, model: sim-large }]
  judge: [{ provider: sim, model: sim-small }]
oversight: { every: 5m, model: judge, transcripts: { coordinator: ${JSON.stringify(transcript)} } }
repos: [{ path: ${JSON.stringify(repo)}, branches: [main] }]
agents:
${ROLES.map((r) => `  - { name: ${r}, role: ${r}, model: main, command: [node, a.js], workspace: ./ws/${r} }`).join("\n")}
`,
  );
  return loadConfig(join(dir, "flotilla.yaml")).config;
}

/** A day of ledger history before `now`: ~4,300 requests, restarts, a dead key, a hand edit. */
function history(ledger: Store, now: number): void {
  for (let i = 0; i < 4_000; i++) {
    const agent = ROLES[i % ROLES.length] as string;
    ledger.append({
      ts: now - 24 * HOUR + Math.floor((i / 4_000) * 23.9 * HOUR),
      kind: "gateway.request",
      agent,
      data: {
        provider: "sim",
        model: "sim-small",
        tier: i % 23 === 0 ? "fallback" : "primary",
        inputTokens: 1_500 + (i % 700),
        outputTokens: 200 + (i % 90),
        costUsd: 0.002,
        status: 200,
        contextPressure: 0.2,
        fingerprint: `fp${String(i).padStart(14, "0")}`,
      },
    });
  }
  for (let i = 0; i < 5; i++)
    ledger.append({
      ts: now - 40 * 60_000 + i * 60_000,
      kind: "agent.restarted",
      agent: "deployer",
      data: { attempt: i + 1 },
    });
  ledger.append({
    ts: now - 20 * 60_000,
    kind: "config.drift",
    data: { file: "/fleet/flotilla.yaml", change: "edited", diff: "+  every: 1m\n" },
  });
}

/** The last interval: the coder's tool-call loop (300 identical requests) and ordinary traffic. */
function busyInterval(ledger: Store, now: number): void {
  for (let i = 0; i < 300; i++)
    ledger.append({
      ts: now - EVERY + i * 900,
      kind: "gateway.request",
      agent: "coder",
      data: {
        tier: "primary",
        inputTokens: 30_000,
        outputTokens: 40,
        status: 200,
        contextPressure: 0.5,
        fingerprint: "loop000000000000",
      },
    });
  for (let i = 0; i < 60; i++)
    ledger.append({
      ts: now - EVERY + i * 4_000,
      kind: "gateway.request",
      agent: ROLES[i % ROLES.length] as string,
      data: {
        tier: "primary",
        inputTokens: 1_800,
        outputTokens: 220,
        status: 200,
        contextPressure: 0.3,
        fingerprint: `busy${i}`,
      },
    });
}

const running = (): AgentStatus[] =>
  ROLES.map((name) => ({
    name,
    state: "running",
    pid: null,
    port: null,
    uptimeSec: 3600,
    restarts: 0,
    health: { ok: true, latencyMs: 1 },
    lastExit: null,
    retryAt: null,
    limits: { applied: [], warnings: [] },
    isolation: "none",
  }));

/** The coordinator's turns in the last interval: the judge has new transcript to read only on a busy one. */
function busyTranscript(file: string): void {
  const turns: string[] = [];
  for (let i = 0; i < 30; i++)
    turns.push(
      JSON.stringify({
        role: i % 2 ? "assistant" : "user",
        content:
          i % 2 ? `Done with step ${i}: the parser now keeps comments.` : `Next: step ${i} of the refactor.`,
      }),
    );
  appendFileSync(file, `${turns.join("\n")}\n`);
}

/** The judge's calls and tokens since ledger event `sinceId`: the gateway records them under the judge's identity. */
function judgeUse(ledger: Store, sinceId: number): { calls: number; tokens: number } {
  const calls = ledger.query({ kind: "gateway.request", agent: "oversight", sinceId, limit: 10_000 });
  const tokens = calls.reduce(
    (sum, e) => sum + Number(e.data.inputTokens ?? 0) + Number(e.data.outputTokens ?? 0),
    0,
  );
  return { calls: calls.length, tokens };
}

/** One measured run after a run one interval before, the judge answering through a real gateway. */
async function measureRun(busy: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-oversight-"));
  const sim = createSimulator({
    keys: { "sim-key": {} },
    latency: { firstTokenMs: 0, jitterMs: 0 },
    script: [{ reply: JSON.stringify({ findings: [] }) }],
  });
  process.env.BENCH_SIM_KEY = "sim-key";
  let gatewayServer: Server | undefined;
  try {
    const config = fleet(dir, await sim.start());
    mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    ensureGatewaySecret(config.stateDir);
    const ledger = openSqliteStore(join(config.stateDir, "ledger.db"));
    const gateway = createGateway({ config, store: ledger });
    gatewayServer = gateway.server();
    const listening = gatewayServer;
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    const gatewayUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    let now = Date.now() - EVERY;
    history(ledger, now);
    const oversight = createOversight({
      config: () => config,
      ledger,
      status: running,
      stateDir: config.stateDir,
      checks: createChecks({ stateDir: config.stateDir, secrets: {} }, { gatewayUrl }),
      now: () => now,
    });
    await oversight.runOnce();
    now += EVERY;
    if (busy) {
      busyInterval(ledger, now);
      busyTranscript(config.oversight.transcripts.coordinator as string);
    }
    ledger.flush();
    const before = ledger.query({ limit: 1 })[0]?.id ?? 0;
    const started = performance.now();
    const result = await oversight.runOnce();
    const wallMs = Math.round((performance.now() - started) * 10) / 10;
    const judge = judgeUse(ledger, before);
    const findings = result.findings.map((f) => `${f.check}:${f.key}`);
    await oversight.close();
    await gateway.close();
    ledger.close();
    return {
      wallMs,
      judgeCalls: judge.calls,
      judgeTokens: judge.tokens,
      findings,
      outcome: result.run.outcome,
    };
  } finally {
    gatewayServer?.closeAllConnections();
    gatewayServer?.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The daemon with six agents and oversight running every second, beside pm2's God daemon with the same six. */
async function rssBeside(): Promise<{ flotillaMb: number; pm2Mb: number; runs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-oversight-rss-"));
  const file = join(dir, "flotilla.yaml");
  writeFileSync(
    file,
    `version: 1\nstateDir: ./state\nisolation: none\noversight: { every: 1s }\nagents:\n${ROLES.map(
      (r) =>
        `  - { name: ${r}, command: [${JSON.stringify(NODE)}, ${JSON.stringify(AGENT)}], workspace: ./ws/${r} }`,
    ).join("\n")}\n`,
  );
  const env = { ...process.env, PM2_HOME: join(dir, "pm2") };
  const apps = ROLES.map((role) => ({
    name: role,
    script: AGENT,
    interpreter: NODE,
    cwd: dir,
    env: { PORT: "0", FLOTILLA_AGENT_NAME: role },
  }));
  writeFileSync(join(dir, "ecosystem.config.cjs"), `module.exports = ${JSON.stringify({ apps })};\n`);
  try {
    await run(NODE, [BIN, "up", "--detach", "--json", "-c", file]);
    await run(NODE, [PM2, "start", join(dir, "ecosystem.config.cjs")], env);
    // Let oversight run several passes and both daemons settle.
    let runs = 0;
    for (let i = 0; i < 40 && runs < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const events = JSON.parse(
        await run(NODE, [BIN, "events", "--kind", "oversight.run", "--json", "-c", file]),
      ) as { events: unknown[] };
      runs = events.events.length;
    }
    const daemonPid = (JSON.parse(readFileSync(join(dir, "state/daemon.json"), "utf8")) as { pid: number })
      .pid;
    const godPid = Number(readFileSync(join(dir, "pm2/pm2.pid"), "utf8"));
    return { flotillaMb: rssMb(daemonPid), pm2Mb: rssMb(godPid), runs };
  } finally {
    await run(NODE, [BIN, "down", "-c", file]).catch(() => undefined);
    await run(NODE, [PM2, "kill"], env).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

const busy: Awaited<ReturnType<typeof measureRun>>[] = [];
const idle: Awaited<ReturnType<typeof measureRun>>[] = [];
const rss: Awaited<ReturnType<typeof rssBeside>>[] = [];
for (let i = 0; i < REPEATS; i++) {
  busy.push(await measureRun(true));
  idle.push(await measureRun(false));
  rss.push(await rssBeside());
}
const summary = {
  checks: createChecks({ stateDir: "", secrets: {} }).map((c) => c.name),
  busy: {
    wallMsMedian: median(busy.map((r) => r.wallMs)),
    wallMs: busy.map((r) => r.wallMs),
    judgeCalls: busy.map((r) => r.judgeCalls),
    judgeTokens: busy.map((r) => r.judgeTokens),
    findings: busy[0]?.findings,
  },
  idle: {
    wallMsMedian: median(idle.map((r) => r.wallMs)),
    wallMs: idle.map((r) => r.wallMs),
    judgeCalls: idle.map((r) => r.judgeCalls),
    judgeTokens: idle.map((r) => r.judgeTokens),
    findings: idle[0]?.findings,
  },
  rss: {
    flotillaMedianMb: median(rss.map((r) => r.flotillaMb)),
    pm2MedianMb: median(rss.map((r) => r.pm2Mb)),
    flotillaMb: rss.map((r) => r.flotillaMb),
    pm2Mb: rss.map((r) => r.pm2Mb),
    oversightRuns: rss.map((r) => r.runs),
  },
};
if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
else {
  process.stdout.write(
    [
      `checks: ${summary.checks.join(", ")}`,
      `busy day (6 agents, ~4,400 requests, a loop):  run ${summary.busy.wallMsMedian} ms median [${summary.busy.wallMs.join(", ")}], judge calls ${summary.busy.judgeCalls.join("/")}, judge tokens ${summary.busy.judgeTokens.join("/")}`,
      `  findings: ${summary.busy.findings?.join(", ")}`,
      `idle fleet:                                   run ${summary.idle.wallMsMedian} ms median [${summary.idle.wallMs.join(", ")}], judge calls ${summary.idle.judgeCalls.join("/")}, judge tokens ${summary.idle.judgeTokens.join("/")}`,
      `daemon RSS, oversight every 1s, 6 agents:    ${summary.rss.flotillaMedianMb} MB [${summary.rss.flotillaMb.join(", ")}] (runs seen ${summary.rss.oversightRuns.join("/")})`,
      `pm2 God daemon, same 6 agents, same run:     ${summary.rss.pm2MedianMb} MB [${summary.rss.pm2Mb.join(", ")}]`,
      "",
    ].join("\n"),
  );
}
