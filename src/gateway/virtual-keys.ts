/**
 * Per-agent virtual keys. A key is an HMAC of the agent's name under a master secret kept in the state
 * dir (0600), so nothing stores a key in plain text: the supervisor derives it when it starts an agent,
 * and the gateway keeps only SHA-256 hashes of the keys it accepts.
 */
import { createHmac, hash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FlotillaError } from "../errors.ts";

const SECRET_FILE = "gateway.secret";
const PREFIX = "flt";

/** Creates the master secret (256 random bits, mode 0600) unless it exists. */
export function ensureGatewaySecret(stateDir: string): void {
  const file = join(stateDir, SECRET_FILE);
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
}

function readSecret(stateDir: string): string {
  try {
    return readFileSync(join(stateDir, SECRET_FILE), "utf8").trim();
  } catch {
    throw new FlotillaError(
      "FLOTILLA_E_STATE",
      `${join(stateDir, SECRET_FILE)} is missing; "flotilla up" creates it before the gateway starts`,
    );
  }
}

/** The virtual key of one agent: `flt-<agent>-<43 url-safe chars>`. */
export function virtualKey(stateDir: string, agent: string): string {
  const mac = createHmac("sha256", readSecret(stateDir)).update(`agent:${agent}`).digest("base64url");
  return `${PREFIX}-${agent}-${mac}`;
}

export function hashKey(key: string): string {
  return hash("sha256", key, "hex");
}

/**
 * The gateway's view: which agent a presented key belongs to, by comparing hashes in constant time. A
 * keep-alive connection that presents the key it was last identified by skips the hash: the comparison
 * can only match a key this same connection already proved it holds.
 */
export function createKeyRing(stateDir: string, agents: readonly string[]) {
  const hashes = new Map(
    agents.map((agent) => [agent, Buffer.from(hashKey(virtualKey(stateDir, agent)), "hex")]),
  );
  const known = new WeakMap<object, { key: string; agent: string }>();
  return {
    /** The agent owning `key`, or undefined for an unknown key; `connection` is the socket it came on. */
    identify(key: string | undefined, connection?: object): string | undefined {
      if (!key?.startsWith(`${PREFIX}-`)) return undefined;
      const last = connection && known.get(connection);
      if (last && last.key === key) return last.agent;
      const presented = Buffer.from(hashKey(key), "hex");
      for (const [agent, hash] of hashes) {
        if (!timingSafeEqual(hash, presented)) continue;
        if (connection) known.set(connection, { key, agent });
        return agent;
      }
      return undefined;
    },
  };
}

export type KeyRing = ReturnType<typeof createKeyRing>;
