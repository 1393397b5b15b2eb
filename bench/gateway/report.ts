/** Medians, figures added over the straight route, the issue's targets, and the printed table of bench/gateway. */

/** What one route measured, one entry per repeat. */
export interface RouteFigures {
  reqPerSec: number[];
  /** The proxy process's CPU time (user + system) per request at 32 connections, in µs. */
  cpuUsPerReq: number[];
  /** The same at 32 connections with agent-shaped requests (~57 KB prompt, 12 tools). */
  agentReqPerSec: number[];
  agentCpuUsPerReq: number[];
  p50Ms: number[];
  p99Ms: number[];
  firstFrameMs: number[];
  deadReqPerSec: number[];
  /** p50 at c=1 with a dead primary (the breaker open after the first refusals). */
  deadP50Ms: number[];
  rssMb: number[];
  /** Socket errors and non-2xx answers over all runs; a route with errors is broken, not fast. */
  errors: number;
}

export interface RouteSummary {
  reqPerSec: number;
  cpuUsPerReq: number | null;
  agentReqPerSec: number;
  agentCpuUsPerReq: number | null;
  p50Ms: number;
  p99Ms: number;
  addedP50Ms: number;
  addedP99Ms: number;
  firstFrameMs: number;
  addedFirstFrameMs: number;
  deadReqPerSec: number | null;
  /** What a dead primary adds to one request at c=1 (dead p50 minus the healthy p50 of the route). */
  deadAddedP50Ms: number | null;
  rssMb: number | null;
  errors: number;
  runs: RouteFigures;
}

export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export function summarize(
  figures: Map<string, RouteFigures>,
  straight: string,
): Record<string, RouteSummary> {
  const base = figures.get(straight) as RouteFigures;
  const baseP50 = median(base.p50Ms);
  const baseP99 = median(base.p99Ms);
  const baseFrame = median(base.firstFrameMs);
  return Object.fromEntries(
    [...figures].map(([name, f]) => [
      name,
      {
        reqPerSec: median(f.reqPerSec),
        cpuUsPerReq: f.cpuUsPerReq.length > 0 ? median(f.cpuUsPerReq) : null,
        agentReqPerSec: median(f.agentReqPerSec),
        agentCpuUsPerReq: f.agentCpuUsPerReq.length > 0 ? median(f.agentCpuUsPerReq) : null,
        p50Ms: round(median(f.p50Ms)),
        p99Ms: round(median(f.p99Ms)),
        addedP50Ms: round(median(f.p50Ms) - baseP50),
        addedP99Ms: round(median(f.p99Ms) - baseP99),
        firstFrameMs: round(median(f.firstFrameMs)),
        addedFirstFrameMs: round(median(f.firstFrameMs) - baseFrame),
        deadReqPerSec: f.deadReqPerSec.length > 0 ? median(f.deadReqPerSec) : null,
        deadAddedP50Ms: f.deadP50Ms.length > 0 ? round(median(f.deadP50Ms) - median(f.p50Ms)) : null,
        rssMb: f.rssMb.length > 0 ? median(f.rssMb) : null,
        errors: f.errors,
        runs: f,
      },
    ]),
  );
}

/** The issue's targets for Flotilla, each with the figure it was judged on. */
export function targets(summary: Record<string, RouteSummary>): Array<{ target: string; ok: boolean }> {
  const entries = Object.entries(summary);
  const flotilla = entries.find(([n]) => n.startsWith("Flotilla"))?.[1];
  const portkey = entries.find(([n]) => n.startsWith("Portkey"))?.[1];
  const minimal = entries.find(([n]) => n.startsWith("minimal proxy (undici)"))?.[1];
  if (!flotilla || !portkey || !minimal) return [];
  const pct = (a: number, b: number) => `${Math.round((a / b) * 100)} %`;
  const times = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
  return [
    {
      target: `≥ 5× Portkey's req/s: ${times(flotilla.reqPerSec, portkey.reqPerSec)} small, ${times(flotilla.agentReqPerSec, portkey.agentReqPerSec)} agent-shaped`,
      ok:
        flotilla.reqPerSec >= 5 * portkey.reqPerSec && flotilla.agentReqPerSec >= 5 * portkey.agentReqPerSec,
    },
    {
      target: `≥ 80 % of the minimal proxy's req/s: ${pct(flotilla.reqPerSec, minimal.reqPerSec)} small, ${pct(flotilla.agentReqPerSec, minimal.agentReqPerSec)} agent-shaped`,
      ok:
        flotilla.reqPerSec >= 0.8 * minimal.reqPerSec &&
        flotilla.agentReqPerSec >= 0.8 * minimal.agentReqPerSec,
    },
    {
      target: `RSS after load no higher than the minimal proxy's: ${flotilla.rssMb ?? "?"} MB against ${minimal.rssMb ?? "?"} MB`,
      ok: flotilla.rssMb !== null && minimal.rssMb !== null && flotilla.rssMb <= minimal.rssMb,
    },
    { target: `added p50 ≤ 0.5 ms at c=1: ${flotilla.addedP50Ms} ms`, ok: flotilla.addedP50Ms <= 0.5 },
    { target: `added p99 ≤ 2 ms at c=1: ${flotilla.addedP99Ms} ms`, ok: flotilla.addedP99Ms <= 2 },
    {
      target: `streams add ≤ 1 ms to the first frame: ${flotilla.addedFirstFrameMs} ms`,
      ok: flotilla.addedFirstFrameMs <= 1,
    },
    {
      target: `dead primary keeps ≥ 80 % of req/s: ${pct(flotilla.deadReqPerSec ?? 0, flotilla.reqPerSec)}`,
      ok: (flotilla.deadReqPerSec ?? 0) >= 0.8 * flotilla.reqPerSec,
    },
    {
      target: `a dead primary adds < 1 ms to a request (p50 at c=1): ${flotilla.deadAddedP50Ms} ms`,
      ok: flotilla.deadAddedP50Ms !== null && flotilla.deadAddedP50Ms < 1,
    },
  ];
}

export function printReport(meta: Record<string, unknown>, summary: Record<string, RouteSummary>): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const columns: Array<[string, number, (s: RouteSummary) => string]> = [
    ["req/s @32", 10, (s) => String(s.reqPerSec)],
    ["CPU/req", 9, (s) => (s.cpuUsPerReq === null ? "-" : `${s.cpuUsPerReq} µs`)],
    ["agent r/s", 10, (s) => String(s.agentReqPerSec)],
    ["CPU/req", 9, (s) => (s.agentCpuUsPerReq === null ? "-" : `${s.agentCpuUsPerReq} µs`)],
    ["+p50 @1", 10, (s) => ms(s.addedP50Ms)],
    ["+p99 @1", 10, (s) => ms(s.addedP99Ms)],
    ["+1st frame", 11, (s) => ms(s.addedFirstFrameMs)],
    ["dead 1st", 9, (s) => String(s.deadReqPerSec ?? "-")],
    ["+dead @1", 10, (s) => (s.deadAddedP50Ms === null ? "-" : ms(s.deadAddedP50Ms))],
    ["RSS", 9, (s) => (s.rssMb === null ? "-" : `${s.rssMb} MB`)],
  ];
  const bodies = meta.bodies as { small: number; agent: number };
  out(
    `request bodies: ${bodies.small} bytes (small), ${bodies.agent} bytes (agent-shaped: 12 tools, a long history)`,
  );
  out(
    `zero-latency simulator upstream, ${String(meta.repeats)} repeats × ${String(meta.seconds)} s, Node ${String(meta.node)}, ${String(meta.wrk).split(" [")[0]}, load average ${String(meta.loadAverage)}`,
  );
  out(`${"route".padEnd(27)}${columns.map(([title, width]) => title.padStart(width)).join("")}`);
  for (const [name, s] of Object.entries(summary)) {
    const cells = columns.map(([, width, cell]) => cell(s).padStart(width)).join("");
    out(`${name.padEnd(27)}${cells}${s.errors > 0 ? `  ${s.errors} ERRORS` : ""}`);
  }
  const straight = Object.values(summary)[0];
  out(
    `straight route itself: p50 ${straight?.p50Ms} ms, p99 ${straight?.p99Ms} ms, first frame ${straight?.firstFrameMs} ms`,
  );
  const flotilla = Object.entries(summary).find(([n]) => n.startsWith("Flotilla"))?.[1];
  const portkey = Object.entries(summary).find(([n]) => n.startsWith("Portkey"))?.[1];
  if (flotilla && portkey) {
    const perRound = (a: number[], b: number[]) =>
      a.map((x, i) => `${(x / (b[i] ?? NaN)).toFixed(1)}×`).join(" ");
    out(
      `Flotilla ÷ Portkey, round by round: small ${perRound(flotilla.runs.reqPerSec, portkey.runs.reqPerSec)}; agent-shaped ${perRound(flotilla.runs.agentReqPerSec, portkey.runs.agentReqPerSec)}`,
    );
  }
  for (const t of targets(summary)) out(`${t.ok ? "met   " : "MISSED"} ${t.target}`);
}
