/**
 * provider-outage: every request to one provider fails. Only for a provider on a Flotilla simulator (an
 * outage window through POST <root>/_sim/faults); a real provider is refused. Requests go through the
 * gateway so it sees the failures. The watchdog cannot fix a provider: the expected outcome is exactly one
 * escalation and no restarts; the drill then clears the fault and waits for the incident to resolve.
 */
import type { FlotillaConfig } from "../../config/schema.ts";
import { JUDGE_IDENTITY } from "../../config/cross-field.ts";
import { FlotillaError } from "../../errors.ts";
import { readKeyRegistry, virtualKey } from "../../gateway/virtual-keys.ts";
import type { AgentStatus } from "../../supervisor/agent-runner.ts";
import type { Drill, DrillContext } from "./drill.ts";
import { requireDaemon } from "./fleet-access.ts";

type ProviderConfig = FlotillaConfig["providers"][number];

interface Outage {
  fromMs: number;
  toMs: number;
}

/** Longer than any drill: the window the simulator answers 503 in, from its start. */
const FOREVER_MS = 1e12;
const REQUEST_TIMEOUT_MS = 10_000;

/** The simulator's root for a provider's baseUrl (its routes sit beside /v1). */
function simulatorRoot(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "");
}

async function simFaults(root: string, patch: Record<string, unknown>): Promise<{ outages: Outage[] }> {
  const res = await fetch(`${root}/_sim/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(patch),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return ((await res.json()) as { faults: { outages: Outage[] } }).faults;
}

/** Whether the provider's baseUrl is a Flotilla simulator: its stats route answers in the simulator's shape. */
async function isSimulator(provider: ProviderConfig): Promise<boolean> {
  try {
    const res = await fetch(`${simulatorRoot(provider.baseUrl)}/_sim/stats`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await res.json()) as { requests?: unknown; byKey?: unknown };
    return res.ok && typeof body.requests === "number" && typeof body.byKey === "object";
  } catch {
    return false;
  }
}

async function chooseProvider(ctx: DrillContext): Promise<ProviderConfig> {
  const { providers } = ctx.config;
  const wanted = ctx.options.provider;
  if (wanted !== undefined) {
    const provider = providers.find((p) => p.id === wanted);
    if (!provider)
      throw new FlotillaError(
        "FLOTILLA_E_USAGE",
        `no provider "${wanted}"; the fleet has ${providers.map((p) => p.id).join(", ") || "no providers"}`,
      );
    if (!(await isSimulator(provider)))
      throw new FlotillaError(
        "FLOTILLA_E_DRILL_REFUSED",
        `provider-outage refuses provider ${provider.id}: its baseUrl is not a Flotilla simulator, and a real provider cannot be failed on purpose; point a provider's baseUrl at "flotilla sim" for the drill`,
      );
    return provider;
  }
  for (const provider of providers) if (await isSimulator(provider)) return provider;
  throw new FlotillaError(
    "FLOTILLA_E_DRILL_REFUSED",
    `provider-outage: no provider's baseUrl is a Flotilla simulator (${providers.map((p) => p.id).join(", ") || "no providers"}), and a real provider cannot be failed on purpose; add a simulator: section and a provider on it`,
  );
}

/** The logical model whose chain starts at the provider (or, failing that, goes through it). */
function modelFor(ctx: DrillContext, provider: string): string {
  const chains = Object.entries(ctx.config.models);
  const found =
    chains.find(([, chain]) => chain[0]?.provider === provider) ??
    chains.find(([, chain]) => chain.some((e) => e.provider === provider));
  if (!found)
    throw new FlotillaError(
      "FLOTILLA_E_DRILL_REFUSED",
      `provider-outage: no logical model under models: uses provider ${provider}, so no request through the gateway reaches it; add one`,
    );
  return found[0];
}

/** The gateway identity the drill's requests use: the oversight judge's reserved one, else the first agent's. */
function identity(ctx: DrillContext): string {
  const { config } = ctx;
  const name = config.oversight.model ? JUDGE_IDENTITY : config.agents[0]?.name;
  if (!name)
    throw new FlotillaError(
      "FLOTILLA_E_DRILL_REFUSED",
      "provider-outage: the fleet has no agent and no oversight.model, so no gateway identity can send requests",
    );
  const version = readKeyRegistry(config.stateDir)[name]?.version ?? 1;
  return virtualKey(config.stateDir, name, version);
}

function restartsOf(agents: AgentStatus[]): number {
  return agents.reduce((sum, a) => sum + a.restarts, 0);
}

export const providerOutage: Drill = {
  name: "provider-outage",
  summary:
    "every request to one simulated provider fails: one escalation, no restarts, then the fault is cleared",
  escalations: 1,
  async prepare(ctx) {
    const { config } = ctx;
    const { agents: before } = await requireDaemon(ctx);
    const provider = await chooseProvider(ctx);
    const model = modelFor(ctx, provider.id);
    const key = identity(ctx);
    const root = simulatorRoot(provider.baseUrl);
    return {
      inject: async () => {
        const original = (await simFaults(root, {})).outages;
        const at = Date.now();
        await simFaults(root, { outages: [...original, { fromMs: 0, toMs: FOREVER_MS }] });
        ctx.note(
          `provider ${provider.id}: every request now fails (simulator outage), requests through the gateway as model ${model}`,
        );

        // Traffic through the gateway, one request at a time, often enough for the watchdog's probe window.
        const gap = Math.min(Math.max(Math.floor(config.watchdog.probeSpacing / 3), 100), 5_000);
        let stopped = false;
        let cleared = false;
        let lastOk = false;
        const traffic = (async () => {
          while (!stopped) {
            try {
              const res = await fetch(`http://${config.gateway.listen}/v1/chat/completions`, {
                method: "POST",
                headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
                body: JSON.stringify({
                  model,
                  max_tokens: 16,
                  messages: [{ role: "user", content: "flotilla drill provider-outage: one request" }],
                }),
                signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
              });
              await res.arrayBuffer();
              lastOk = cleared && res.ok;
            } catch {
              lastOk = false;
            }
            await new Promise((resolve) => setTimeout(resolve, gap));
          }
        })();

        const clear = async () => {
          if (cleared) return;
          await simFaults(root, { outages: original });
          cleared = true;
          ctx.note(`provider ${provider.id}: fault cleared`);
        };
        return {
          target: { kind: "provider", id: `provider:${provider.id}`, name: provider.id },
          at,
          healthy: async () => cleared && lastOk,
          async step(progress) {
            if (!cleared && progress.incidents.some((i) => i.escalatedAt !== undefined)) await clear();
          },
          done: (progress) =>
            cleared &&
            progress.healthy &&
            progress.incidents.length > 0 &&
            progress.incidents.every((i) => i.recoveredAt !== undefined),
          async verdict() {
            const now = await ctx
              .api()
              .get<{ agents: AgentStatus[] }>("/v1/status")
              .catch(() => undefined);
            const restarts = now ? restartsOf(now.agents) - restartsOf(before) : 0;
            return restarts > 0
              ? [`${restarts} restarts during the outage; a provider outage needs none`]
              : [];
          },
          async cleanup() {
            await clear().catch((err: unknown) =>
              ctx.note(
                `could not clear the fault at ${root}/_sim/faults (${(err as Error).message}); POST {"outages": []} there`,
              ),
            );
            stopped = true;
            await traffic;
          },
        };
      },
    };
  },
};
