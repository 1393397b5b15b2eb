/**
 * Where Flotilla's gateway spends its CPU on one request shape: starts the simulator and the gateway (with
 * --cpu-prof), loads it with wrk, stops it and prints the functions with the most self time.
 * Also prints what one JSON.parse of the body costs. Usage: node bench/gateway/profile.ts [--shape agent|small] [--seconds 8] [--top 30]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { agentRequest, smallRequest } from "./bodies.ts";
import { runWrk, wrkScript } from "./load.ts";
import { startFlotilla, startSimulator } from "./processes.ts";

const { values } = parseArgs({
  options: {
    shape: { type: "string", default: "agent" },
    seconds: { type: "string", default: "8" },
    top: { type: "string", default: "30" },
  },
});

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Samples under each of Flotilla's own functions (src/), its callees included, each sample counted once per function. */
function inclusive(nodes: ProfileNode[], name: (node: ProfileNode) => string): Map<string, number> {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  const walk = (node: ProfileNode, onStack: Set<string>): number => {
    let hits = node.hitCount ?? 0;
    const own = node.callFrame.url.includes("/src/") ? name(node) : undefined;
    const fresh = own !== undefined && !onStack.has(own);
    if (fresh) onStack.add(own);
    for (const child of node.children ?? []) hits += walk(byId.get(child) as ProfileNode, onStack);
    if (fresh) {
      onStack.delete(own);
      totals.set(own, (totals.get(own) ?? 0) + hits);
    }
    return hits;
  };
  const root = nodes[0];
  if (root) walk(root, new Set());
  return totals;
}

/** What the gateway's one JSON.parse of a request body costs (decode and parse), in µs, on this thread. */
function parseMicros(text: string): number {
  const raw = Buffer.from(text);
  const once = () => JSON.parse(raw.toString("utf8")) as unknown;
  for (let i = 0; i < 1_000; i++) once();
  const rounds = 10_000;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) once();
  return ((performance.now() - started) * 1_000) / rounds;
}

const dir = mkdtempSync(join(tmpdir(), "flotilla-profile-"));
const profiles = join(dir, "profiles");
try {
  const sim = await startSimulator(dir);
  process.env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${profiles}`;
  const flotilla = await startFlotilla(dir, sim.url);
  delete process.env.NODE_OPTIONS;
  const body = values.shape === "small" ? smallRequest("sim-large", false) : agentRequest("sim-large");
  const target = {
    url: flotilla.url,
    path: "/v1/chat/completions",
    headers: { authorization: `Bearer ${flotilla.key}` },
  };
  const result = await runWrk(
    flotilla.url,
    wrkScript(dir, "profile", target, body),
    32,
    Number(values.seconds),
  );
  await flotilla.stop();
  await sim.stop();
  // The largest profile is the gateway's (`flotilla key`, run before it, writes a small one too).
  const file = readdirSync(profiles)
    .filter((name) => name.endsWith(".cpuprofile"))
    .map((name) => ({ name, size: statSync(join(profiles, name)).size }))
    .sort((a, b) => b.size - a.size)[0]?.name;
  if (!file) throw new Error("the gateway wrote no profile");
  const profile = JSON.parse(readFileSync(join(profiles, file), "utf8")) as { nodes: ProfileNode[] };
  const total = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const name = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || "(anonymous)"} ${url.replace(/^.*\/(src|node_modules)\//, "$1/")}:${lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  for (const node of profile.nodes) self.set(name(node), (self.get(name(node)) ?? 0) + (node.hitCount ?? 0));
  process.stdout.write(`${values.shape}: ${result.reqPerSec} req/s under the profiler, ${total} samples\n`);
  process.stdout.write(
    `the body decoded and parsed once: ${parseMicros(body).toFixed(1)} µs (${body.length} bytes)\n`,
  );
  for (const [where, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
    process.stdout.write(`${((hits / total) * 100).toFixed(1).padStart(5)} %  ${where}\n`);
  process.stdout.write("\nFlotilla's own functions, callees included:\n");
  for (const [where, hits] of [...inclusive(profile.nodes, name)]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(values.top)))
    process.stdout.write(`${((hits / total) * 100).toFixed(1).padStart(5)} %  ${where}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
