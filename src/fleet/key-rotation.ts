/**
 * `flotilla key rotate`, carried out by the daemon: issue the agent's next key version, have the gateway
 * reload its key ring (SIGHUP) and confirm that it refuses the old key, then restart the agent so it starts
 * with the new one. Nothing else in the fleet is touched.
 */
import type { FlotillaConfig } from "../config/schema.ts";
import { FlotillaError } from "../errors.ts";
import { type KeyEntry, rotateKey, virtualKey } from "../gateway/virtual-keys.ts";
import type { Store } from "../ledger/store.ts";
import type { Supervisor } from "../supervisor/supervisor.ts";
import { GATEWAY_AGENT } from "./fleet-wiring.ts";

const CONFIRM_MS = 5_000; // how long the gateway may take to refuse the old key after SIGHUP
const POLL_MS = 50;

export interface RotationDeps {
  config: () => FlotillaConfig;
  supervisor: Supervisor;
  store: Store;
}

/** The status the gateway gives a request that presents `key` (401: the key is not accepted). */
function gatewayStatus(listen: string, key: string): Promise<number> {
  const { request } = process.getBuiltinModule("node:http");
  const index = listen.lastIndexOf(":");
  return new Promise((resolve) => {
    const req = request(
      {
        host: listen.slice(0, index),
        port: Number(listen.slice(index + 1)),
        method: "POST",
        path: "/v1/chat/completions",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        timeout: 2_000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(0));
    req.end("{}");
  });
}

async function confirmRevoked(deps: RotationDeps, agent: string, oldKey: string): Promise<void> {
  const config = deps.config();
  const gateway = deps.supervisor.status().find((s) => s.name === GATEWAY_AGENT);
  if (!gateway?.pid || config.providers.length === 0) return;
  process.kill(gateway.pid, "SIGHUP");
  const deadline = Date.now() + CONFIRM_MS;
  while (Date.now() < deadline) {
    if ((await gatewayStatus(config.gateway.listen, oldKey)) === 401) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new FlotillaError(
    "FLOTILLA_E_STATE",
    `the gateway did not confirm within ${CONFIRM_MS}ms that ${agent}'s old key is refused; restart it (flotilla restart gateway) to be sure`,
  );
}

export function createKeyRotation(deps: RotationDeps) {
  return {
    async rotate(agent: string): Promise<KeyEntry & { agent: string; restarted: boolean }> {
      const { stateDir } = deps.config();
      const spec = deps.supervisor.spec(agent);
      if (!spec || spec.name === GATEWAY_AGENT || !deps.config().agents.some((a) => a.name === agent)) {
        const known =
          deps
            .config()
            .agents.map((a) => a.name)
            .join(", ") || "none";
        throw new FlotillaError("FLOTILLA_E_UNKNOWN_AGENT", `no agent named "${agent}" (agents: ${known})`, {
          status: 404,
        });
      }
      const oldKey = virtualKey(stateDir, agent);
      const entry = rotateKey(stateDir, agent);
      await confirmRevoked(deps, agent, oldKey);
      const state = deps.supervisor.agentStatus(agent).state;
      const restarted = state !== "stopped" && state !== "failed";
      if (restarted) await deps.supervisor.restart(agent);
      deps.store.append({ kind: "key.rotated", agent, data: { version: entry.version, restarted } });
      return { agent, ...entry, restarted };
    },
  };
}

export type KeyRotation = ReturnType<typeof createKeyRotation>;
