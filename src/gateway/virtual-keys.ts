/**
 * Per-agent virtual keys, versioned so they can be revoked. A key is an HMAC of the agent's name and its
 * key version under a master secret kept in the state dir (0600, hidden from agents), so knowing one key
 * or name never yields another, and nothing stores a key in plain text. The registry
 * (`<stateDir>/keys.json`) holds each agent's current version and when it was issued; `rotateKey` bumps
 * it, and the gateway, which keeps only SHA-256 hashes of current keys, reloads them on SIGHUP.
 */
import { createHmac, hash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FlotillaError } from "../errors.ts";

const SECRET_FILE = "gateway.secret";
const REGISTRY_FILE = "keys.json";
const PREFIX = "flt";

export interface KeyEntry {
  version: number;
  /** ISO time the version was issued. */
  issuedAt: string;
}

type Registry = Record<string, KeyEntry>;

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

/** Every agent's current key version; agents never issued a key are absent. */
export function readKeyRegistry(stateDir: string): Registry {
  try {
    const parsed = JSON.parse(readFileSync(join(stateDir, REGISTRY_FILE), "utf8")) as { agents?: Registry };
    return parsed.agents ?? {};
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new FlotillaError(
      "FLOTILLA_E_STATE",
      `${join(stateDir, REGISTRY_FILE)} cannot be read (${(err as Error).message}); restore it from a backup or delete it to issue every agent a new key`,
    );
  }
}

function writeKeyRegistry(stateDir: string, agents: Registry): void {
  const file = join(stateDir, REGISTRY_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify({ agents }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

function issue(stateDir: string, agent: string, version: number): KeyEntry {
  const registry = readKeyRegistry(stateDir);
  const entry = { version, issuedAt: new Date().toISOString() };
  writeKeyRegistry(stateDir, { ...registry, [agent]: entry });
  return entry;
}

/** The agent's current key entry, issuing version 1 when it has none. */
export function keyEntry(stateDir: string, agent: string): KeyEntry {
  return readKeyRegistry(stateDir)[agent] ?? issue(stateDir, agent, 1);
}

/** Issues the agent's next key version; the previous key is refused once the gateway has reloaded. */
export function rotateKey(stateDir: string, agent: string): KeyEntry {
  return issue(stateDir, agent, keyEntry(stateDir, agent).version + 1);
}

function derive(secret: string, agent: string, version: number): string {
  const mac = createHmac("sha256", secret).update(`agent:${agent}:v${version}`).digest("base64url");
  return `${PREFIX}-${agent}-v${version}-${mac}`;
}

/** The agent's current virtual key: `flt-<agent>-v<version>-<43 url-safe chars>`. */
export function virtualKey(
  stateDir: string,
  agent: string,
  version = keyEntry(stateDir, agent).version,
): string {
  return derive(readSecret(stateDir), agent, version);
}

function hashKey(key: string): string {
  return hash("sha256", key, "hex");
}

/**
 * The gateway's view: which agent a presented key belongs to, by comparing hashes of current keys in
 * constant time. A keep-alive connection that presents the key it was last identified by skips the hash,
 * until the next reload (a rotation must cut off connections that proved an old key).
 */
export function createKeyRing(stateDir: string, agents: readonly string[]) {
  let hashes = new Map<string, Buffer>();
  let known = new WeakMap<object, { key: string; agent: string }>();
  const load = () => {
    const secret = readSecret(stateDir);
    const registry = readKeyRegistry(stateDir);
    hashes = new Map(
      agents.map((agent) => {
        const version = registry[agent]?.version ?? 1;
        return [agent, Buffer.from(hashKey(derive(secret, agent, version)), "hex")];
      }),
    );
    known = new WeakMap();
  };
  load();
  return {
    /** The agent owning `key`, or undefined for an unknown or revoked key; `connection` is the socket it came on. */
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
    /** Reads the registry again: rotated keys take over, and the keys they replace are refused from now on. */
    reload: load,
  };
}

export type KeyRing = ReturnType<typeof createKeyRing>;
