/**
 * Gateway benchmark, four routes side by side in one run against the zero-latency simulator: straight to
 * it, through Flotilla's gateway (every feature on), through Portkey's open-source gateway, and through a
 * minimal node:http + undici proxy (plus, for reference, the same proxy with node:http's client). Figures: req/s at 32 connections and each proxy's CPU per request there,
 * added p50/p99 at c=1, added time to the first stream frame, req/s with a dead primary and what it adds
 * to one request at c=1, and each proxy's
 * RSS. Each repeat visits the routes in a rotated order; the summary quotes medians of the repeats.
 * Usage: npm run bench:gateway [-- --repeats 3 --seconds 8 --streams 300 --json]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { agentRequest, smallRequest as request } from "./bodies.ts";
import { checkWrk, firstFrameTimes, runWrk, type Target, wrkScript } from "./load.ts";
import {
  cpuMs,
  ensurePortkey,
  freePort,
  type Running,
  rssMb,
  startFlotilla,
  startMinimalProxy,
  startPortkey,
  startSimulator,
} from "./processes.ts";
import { printReport, type RouteFigures, summarize } from "./report.ts";

const { values } = parseArgs({
  options: {
    repeats: { type: "string", default: "3" },
    seconds: { type: "string", default: "8" },
    streams: { type: "string", default: "300" },
    connections: { type: "string", default: "32" },
    json: { type: "boolean" },
  },
});
const REPEATS = Number(values.repeats);
const SECONDS = Number(values.seconds);
const STREAMS = Number(values.streams);
const CONNECTIONS = Number(values.connections);
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Route {
  name: string;
  target: Target;
  process?: Running;
  /** The same route with a dead first provider, when the route has a failover chain. */
  dead?: { target: Target; body: string };
}

const loadAverage = () => Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
const loadBefore = loadAverage();
const wrkVersion = checkWrk();
const portkeyVersion = ensurePortkey(log);
const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-gw-"));
const started: Running[] = [];
// Interrupted: stop what was started (the upstream, the proxies) rather than leave them listening.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void Promise.all(started.map((p) => p.stop())).finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}
try {
  log("starting the simulator, Flotilla's gateway, Portkey's gateway and the minimal proxy...");
  const sim = await startSimulator(dir);
  started.push(sim);
  const flotilla = await startFlotilla(dir, sim.url);
  started.push(flotilla);
  const portkey = await startPortkey();
  started.push(portkey);
  const minimal = await startMinimalProxy(sim.url, "undici");
  started.push(minimal);
  const minimalHttp = await startMinimalProxy(sim.url, "http");
  started.push(minimalHttp);
  const simKey = { authorization: "Bearer sim-key" };
  const path = "/v1/chat/completions";
  const deadPort = await freePort();
  const portkeyHeaders = {
    ...simKey,
    "x-portkey-provider": "openai",
    "x-portkey-custom-host": `${sim.url}/v1`,
  };
  const fallbackConfig = JSON.stringify({
    strategy: { mode: "fallback" },
    targets: [
      { provider: "openai", custom_host: `http://127.0.0.1:${deadPort}/v1`, api_key: "sim-key" },
      { provider: "openai", custom_host: `${sim.url}/v1`, api_key: "sim-key" },
    ],
  });
  const routes: Route[] = [
    { name: "straight to the simulator", target: { url: sim.url, path, headers: simKey } },
    {
      name: "Flotilla",
      process: flotilla,
      target: { url: flotilla.url, path, headers: { authorization: `Bearer ${flotilla.key}` } },
      dead: {
        target: { url: flotilla.url, path, headers: { authorization: `Bearer ${flotilla.key}` } },
        body: request("dead-first", false),
      },
    },
    {
      name: `Portkey ${portkeyVersion}`,
      process: portkey,
      target: { url: portkey.url, path, headers: portkeyHeaders },
      dead: {
        target: { url: portkey.url, path, headers: { ...simKey, "x-portkey-config": fallbackConfig } },
        body: request("sim-large", false),
      },
    },
    { name: "minimal proxy (undici)", process: minimal, target: { url: minimal.url, path, headers: simKey } },
    {
      name: "minimal proxy (node:http)",
      process: minimalHttp,
      target: { url: minimalHttp.url, path, headers: simKey },
    },
  ];
  const body = request("sim-large", false);
  const streamBody = request("sim-large", true);
  const figures = new Map<string, RouteFigures>(
    routes.map((r) => [
      r.name,
      {
        reqPerSec: [],
        cpuUsPerReq: [],
        agentReqPerSec: [],
        agentCpuUsPerReq: [],
        p50Ms: [],
        p99Ms: [],
        firstFrameMs: [],
        deadReqPerSec: [],
        deadP50Ms: [],
        rssMb: [],
        errors: 0,
      },
    ]),
  );
  const scripts = new Map(routes.map((r) => [r.name, wrkScript(dir, r.name, r.target, body)]));
  const agentBody = agentRequest("sim-large");
  const agentScripts = new Map(
    routes.map((r) => [r.name, wrkScript(dir, `${r.name}-agent`, r.target, agentBody)]),
  );
  const deadScripts = new Map(
    routes.flatMap((r) =>
      r.dead ? [[r.name, wrkScript(dir, `${r.name}-dead`, r.dead.target, r.dead.body)]] : [],
    ),
  );

  log("warming up each route (2 s of load, 50 streams)...");
  for (const r of routes) {
    await runWrk(r.target.url, scripts.get(r.name) as string, CONNECTIONS, 2);
    await runWrk(r.target.url, agentScripts.get(r.name) as string, CONNECTIONS, 2);
    await firstFrameTimes(r.target, streamBody, 50);
  }
  // Throughput first, every route back to back in each round, so the figures compared sit close in time on a
  // machine whose speed drifts; then latency, streams and the dead primary at one connection.
  const rotated = (repeat: number) => routes.map((_, i) => routes[(i + repeat) % routes.length] as Route);
  const throughput = async (r: Route, script: string, label: string) => {
    log(`${label}: ${r.name}: ${CONNECTIONS} connections for ${SECONDS} s...`);
    const cpuBefore = r.process ? cpuMs(r.process.pid) : 0;
    const load = await runWrk(r.target.url, script, CONNECTIONS, SECONDS);
    const cpu = r.process
      ? Math.round(((cpuMs(r.process.pid) - cpuBefore) * 1000) / load.requests)
      : undefined;
    return { load, cpu };
  };
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const r of rotated(repeat)) {
      const f = figures.get(r.name) as RouteFigures;
      const label = `round ${repeat + 1}/${REPEATS}`;
      const small = await throughput(r, scripts.get(r.name) as string, label);
      f.reqPerSec.push(small.load.reqPerSec);
      if (small.cpu !== undefined) f.cpuUsPerReq.push(small.cpu);
      if (r.process) f.rssMb.push(rssMb(r.process.pid));
      const agent = await throughput(r, agentScripts.get(r.name) as string, `${label}, agent-shaped`);
      f.agentReqPerSec.push(agent.load.reqPerSec);
      if (agent.cpu !== undefined) f.agentCpuUsPerReq.push(agent.cpu);
      f.errors += small.load.errors + agent.load.errors;
      const dead = deadScripts.get(r.name);
      if (dead && r.dead) {
        const failover = await throughput(r, dead, `${label}, dead primary`);
        f.deadReqPerSec.push(failover.load.reqPerSec);
        f.errors += failover.load.errors;
      }
    }
  }
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const r of rotated(repeat)) {
      const f = figures.get(r.name) as RouteFigures;
      log(`latency ${repeat + 1}/${REPEATS}: ${r.name}: 1 connection for ${SECONDS} s...`);
      const single = await runWrk(r.target.url, scripts.get(r.name) as string, 1, SECONDS);
      f.p50Ms.push(single.p50Ms);
      f.p99Ms.push(single.p99Ms);
      f.errors += single.errors;
      log(`latency ${repeat + 1}/${REPEATS}: ${r.name}: ${STREAMS} streams one by one...`);
      const frames = (await firstFrameTimes(r.target, streamBody, STREAMS)).sort((a, b) => a - b);
      f.firstFrameMs.push(frames[Math.floor(frames.length / 2)] as number);
      const dead = deadScripts.get(r.name);
      if (dead && r.dead) {
        log(`latency ${repeat + 1}/${REPEATS}: ${r.name}: dead primary, 1 connection...`);
        const deadSingle = await runWrk(r.dead.target.url, dead, 1, SECONDS);
        f.deadP50Ms.push(deadSingle.p50Ms);
        f.errors += deadSingle.errors;
      }
    }
  }
  const summary = summarize(figures, routes[0]?.name as string);
  const meta = {
    node: process.version,
    wrk: wrkVersion,
    portkey: portkeyVersion,
    repeats: REPEATS,
    seconds: SECONDS,
    streams: STREAMS,
    connections: CONNECTIONS,
    upstream: "flotilla sim (zero latency)",
    bodies: { small: Buffer.byteLength(body), agent: Buffer.byteLength(agentBody) },
    /** 1-minute load averages at the start and the end: on a shared machine, the noise to expect. */
    loadAverage: [loadBefore, loadAverage()],
  };
  if (values.json) process.stdout.write(`${JSON.stringify({ ...meta, summary }, null, 2)}\n`);
  else printReport(meta, summary);
} finally {
  await Promise.all(started.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
}
