/**
 * Fairness under load: six agents offer 3× a simulator key's rpm for a minute through the gateway, whose
 * limits equal the simulator's. The simulator must see no 429, at least 90 % of its limit must be used,
 * and equal-priority agents must be served fairly (Jain's index ≥ 0.95). Prints the figures.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSimulator } from "../../src/sim/simulator.ts";
import { startGateway } from "../support/gateway.ts";

const RPM = 60;
const AGENTS = 6;
const OFFER = 3; // × the key's limit
const RUN_MS = 60_000;

test(
  "six agents at 3× a key's limit: no 429 upstream, ≥ 90 % used, Jain's index ≥ 0.95",
  { timeout: 180_000 },
  async (t) => {
    const sim = createSimulator({ keys: { "fair-key": { rpm: RPM } } });
    const url = await sim.start();
    t.after(() => sim.close());
    process.env.FAIR_KEY = "fair-key";
    const names = Array.from({ length: AGENTS }, (_, i) => `agent-${i + 1}`);
    const gw = await startGateway(
      t,
      `version: 1
gateway: { queueTimeout: 60s }
providers:
  - { id: sim, kind: openai, baseUrl: ${url}/v1, keys: [{ env: FAIR_KEY }], limits: { rpm: ${RPM} } }
models:
  main: [{ provider: sim, model: sim-large }]
agents:
${names.map((n) => `  - { name: ${n}, command: x, workspace: /tmp, model: main }`).join("\n")}
`,
    );
    const served = new Map(names.map((n) => [n, 0]));
    const statuses = new Map<number, number>();
    // A request that fails for any reason but the end-of-run abort is a failure of the gateway.
    const failures: string[] = [];
    const abort = new AbortController();
    const pending: Array<Promise<void>> = [];
    const started = Date.now();
    const interval = RUN_MS / ((RPM * OFFER) / AGENTS); // each agent's gap between requests
    let offering = names.length;
    let runOver: () => void = () => undefined;
    const allOffered = new Promise<void>((resolve) => (runOver = resolve));
    const timers = names.map((name, i) =>
      setTimeout(
        function tick() {
          if (Date.now() - started >= RUN_MS) {
            if (--offering === 0) runOver();
            return;
          }
          pending.push(
            fetch(`${gw.url}/v1/chat/completions`, {
              method: "POST",
              signal: abort.signal,
              headers: { authorization: `Bearer ${gw.key(name)}`, "content-type": "application/json" },
              body: JSON.stringify({
                model: "main",
                messages: [{ role: "user", content: `task from ${name}` }],
              }),
            })
              .then(async (res) => {
                await res.arrayBuffer();
                statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
                if (res.ok && Date.now() - started <= RUN_MS) served.set(name, (served.get(name) ?? 0) + 1);
              })
              .catch((err: unknown) => {
                if (!abort.signal.aborted) failures.push(`${name}: ${String(err)}`);
              }),
          );
          timers[i] = setTimeout(tick, interval);
        },
        (i * interval) / AGENTS,
      ),
    );
    await allOffered; // every agent has stopped offering: the minute is over
    for (const timer of timers) clearTimeout(timer);
    abort.abort();
    await Promise.all(pending);

    const counts = [...served.values()];
    const total = counts.reduce((a, b) => a + b, 0);
    const jain = total ** 2 / (AGENTS * counts.reduce((a, b) => a + b * b, 0));
    const utilisation = total / RPM;
    const upstream = sim.stats();
    process.stdout.write(
      `# fairness: offered ${OFFER}× of rpm ${RPM} by ${AGENTS} agents for ${RUN_MS / 1000}s; served ${total} ` +
        `(${(utilisation * 100).toFixed(1)} % of the limit), per agent [${counts.join(", ")}], Jain ${jain.toFixed(4)}, ` +
        `simulator 429s ${upstream.rateLimited}, gateway statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`,
    );
    assert.deepEqual(failures, [], "no request failed during the run");
    assert.deepEqual(
      [...statuses.keys()].filter((status) => status >= 500),
      [],
      "no request was answered with a server error",
    );
    assert.equal(upstream.rateLimited, 0, "the simulator never had to say 429");
    assert.ok(utilisation >= 0.9, `used ${(utilisation * 100).toFixed(1)} % of the limit`);
    assert.ok(utilisation <= 1, "never more than the limit in the minute");
    assert.ok(jain >= 0.95, `Jain's index ${jain}`);
  },
);
