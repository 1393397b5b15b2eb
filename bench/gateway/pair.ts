/**
 * A quick paired check for work on the gateway's request path: Flotilla's gateway and the minimal proxy
 * (undici) measured alternately against one simulator, on one request shape, with req/s and CPU per request
 * each time. Pairs sit close in time, so their ratio holds on a machine whose speed drifts; the full
 * comparison with Portkey stays `npm run bench:gateway`.
 * Usage: node bench/gateway/pair.ts [--shape agent|small] [--pairs 4] [--seconds 5] [--json]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { agentRequest, smallRequest } from "./bodies.ts";
import { runWrk, wrkScript } from "./load.ts";
import { cpuMs, startFlotilla, startMinimalProxy, startSimulator } from "./processes.ts";

const { values } = parseArgs({
  options: {
    shape: { type: "string", default: "agent" },
    pairs: { type: "string", default: "4" },
    seconds: { type: "string", default: "5" },
    json: { type: "boolean" },
  },
});
const PAIRS = Number(values.pairs);
const SECONDS = Number(values.seconds);
const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-pair-"));
const sim = await startSimulator(dir);
const flotilla = await startFlotilla(dir, sim.url);
const minimal = await startMinimalProxy(sim.url, "undici");
try {
  const body = values.shape === "small" ? smallRequest("sim-large", false) : agentRequest("sim-large");
  const routes = [
    { name: "flotilla", proc: flotilla, headers: { authorization: `Bearer ${flotilla.key}` } },
    { name: "minimal", proc: minimal, headers: { authorization: "Bearer sk-bench" } },
  ].map((r) => ({
    ...r,
    script: wrkScript(
      dir,
      r.name,
      { url: r.proc.url, path: "/v1/chat/completions", headers: r.headers },
      body,
    ),
    reqPerSec: [] as number[],
    cpuUs: [] as number[],
  }));
  for (const r of routes) await runWrk(r.proc.url, r.script, 32, 2); // warm-up
  for (let pair = 0; pair < PAIRS; pair++) {
    const order = pair % 2 === 0 ? routes : [...routes].reverse();
    for (const r of order) {
      const cpuBefore = cpuMs(r.proc.pid);
      const result = await runWrk(r.proc.url, r.script, 32, SECONDS);
      if (result.errors > 0) throw new Error(`${r.name}: ${result.errors} errors`);
      r.reqPerSec.push(result.reqPerSec);
      r.cpuUs.push(((cpuMs(r.proc.pid) - cpuBefore) * 1000) / result.requests);
    }
    const [f, m] = routes as [(typeof routes)[0], (typeof routes)[0]];
    log(
      `pair ${pair + 1}: flotilla ${f.reqPerSec.at(-1)} req/s ${f.cpuUs.at(-1)?.toFixed(0)} µs, ` +
        `minimal ${m.reqPerSec.at(-1)} req/s ${m.cpuUs.at(-1)?.toFixed(0)} µs, ` +
        `${(((f.reqPerSec.at(-1) as number) / (m.reqPerSec.at(-1) as number)) * 100).toFixed(0)} %`,
    );
  }
  const [f, m] = routes as [(typeof routes)[0], (typeof routes)[0]];
  const ratios = f.reqPerSec.map((x, i) => x / (m.reqPerSec[i] as number));
  const summary = {
    shape: values.shape,
    flotilla: { reqPerSec: median(f.reqPerSec), cpuUs: Math.round(median(f.cpuUs)) },
    minimal: { reqPerSec: median(m.reqPerSec), cpuUs: Math.round(median(m.cpuUs)) },
    ratioMedian: Math.round(median(ratios) * 100) / 100,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else
    process.stdout.write(
      `${summary.shape}: flotilla ${summary.flotilla.reqPerSec} req/s (${summary.flotilla.cpuUs} µs/req), ` +
        `minimal ${summary.minimal.reqPerSec} req/s (${summary.minimal.cpuUs} µs/req), ` +
        `pairwise ratio median ${(summary.ratioMedian * 100).toFixed(0)} %\n`,
    );
} finally {
  await Promise.all([flotilla.stop(), minimal.stop(), sim.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
