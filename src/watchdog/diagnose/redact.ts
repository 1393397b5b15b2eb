/**
 * Removes secrets from the text the diagnosis reads and sends: the values the config's secret references
 * point at, the state dir's own secrets, and anything shaped like a key even when nobody told us about it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { JUDGE_IDENTITY } from "../../config/cross-field.ts";
import type { FlotillaConfig } from "../../config/schema.ts";
import { resolvedSecrets } from "../../config/secrets.ts";
import { readKeyRegistry, virtualKey } from "../../gateway/virtual-keys.ts";

const REDACTED = "[redacted]";

/** Known values shorter than this are left alone: they would match ordinary words. */
const MIN_SECRET_LENGTH = 6;

/**
 * Key shapes removed whatever their origin: provider keys, GitHub and Slack tokens, AWS key ids, bearer
 * credentials, credentials in URLs and query strings, and long runs of base64url or hex.
 */
const SHAPES: ReadonlyArray<{ pattern: RegExp; replace: (match: string, ...groups: string[]) => string }> = [
  {
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi,
    replace: (_match, scheme) => `${scheme}${REDACTED}@`,
  },
  { pattern: /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, replace: () => `Bearer ${REDACTED}` },
  {
    pattern:
      /((?:[?&;]|(?<![A-Za-z0-9_]))(?:password|passwd|pwd|token|access_token|api_key|apikey|secret)=|[?&;]key=)[^&\s"'#]+/gi,
    replace: (_match, name) => `${name}${REDACTED}`,
  },
  { pattern: /\bsk-(?:ant-)?[A-Za-z0-9_-]{8,}/g, replace: () => REDACTED },
  { pattern: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/g, replace: () => REDACTED },
  { pattern: /\bgithub_pat_[A-Za-z0-9_]{20,}/g, replace: () => REDACTED },
  { pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, replace: () => REDACTED },
  { pattern: /\bAKIA[0-9A-Z]{16}\b/g, replace: () => REDACTED },
  // Long runs: hex, or base64(url) that mixes digits with both cases (a snake_case name or a path does not).
  { pattern: /[A-Za-z0-9_+/-]{32,}={0,2}/g, replace: (match) => (looksRandom(match) ? REDACTED : match) },
];

function looksRandom(run: string): boolean {
  const body = run.replace(/=+$/, "");
  if (body.startsWith("/")) return false; // an absolute path (its mkdtemp suffix mixes cases and digits)
  if (/^[0-9a-f]+$/.test(body) || /^[0-9A-F]+$/.test(body)) return true;
  return /[0-9]/.test(body) && /[a-z]/.test(body) && /[A-Z]/.test(body);
}

function readQuietly(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The state dir's own secrets: the API token, the gateway secret, and every version of every agent's (and the judge's) virtual key. */
function stateSecrets(stateDir: string, agents: readonly string[]): string[] {
  const values = [readQuietly(join(stateDir, "token")), readQuietly(join(stateDir, "gateway.secret"))];
  let registry: ReturnType<typeof readKeyRegistry> = {};
  try {
    registry = readKeyRegistry(stateDir);
  } catch {
    // An unreadable registry: version 1 of each configured agent is still derived below.
  }
  const names = new Set([...agents, ...Object.keys(registry)]);
  for (const name of names) {
    const current = registry[name]?.version ?? 1;
    for (let version = 1; version <= current; version++) {
      try {
        values.push(virtualKey(stateDir, name, version));
      } catch {
        return values.filter((v): v is string => v !== undefined); // no gateway secret: no keys to derive
      }
    }
  }
  return values.filter((v): v is string => v !== undefined);
}

/** The forms a secret takes in logs and events: as is, JSON-escaped, URL-encoded. */
function forms(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])];
}

/**
 * A function that replaces every secret value this fleet knows, and every key-shaped string, with
 * `[redacted]`. The values are read once, here; the longest are replaced first so that a secret that
 * contains another is removed whole.
 */
export function secretRedactor(config: FlotillaConfig, env: NodeJS.ProcessEnv): (text: string) => string {
  const known = [
    ...resolvedSecrets(config, env).map((secret) => secret.value),
    ...stateSecrets(config.stateDir, [...config.agents.map((a) => a.name), JUDGE_IDENTITY]),
  ];
  const values = [
    ...new Set(known.filter((v): v is string => v !== undefined && v.length >= MIN_SECRET_LENGTH)),
  ]
    .flatMap(forms)
    .sort((a, b) => b.length - a.length);
  return function redactSecrets(text: string): string {
    let out = text;
    for (const value of values) if (out.includes(value)) out = out.split(value).join(REDACTED);
    for (const shape of SHAPES) out = out.replace(shape.pattern, shape.replace);
    return out;
  };
}
