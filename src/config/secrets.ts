/** Resolves secret references ({ env } or { file }) at the moment they are needed; never logs the value. */
import { readFileSync } from "node:fs";
import { FlotillaError } from "../errors.ts";
import type { FlotillaConfig, SecretRef } from "./schema.ts";

export function isSecretRef(value: unknown): value is SecretRef {
  return typeof value === "object" && value !== null && ("env" in value || "file" in value);
}

/** The secret's value; names the reference (never the value) when it cannot be read. */
export function resolveSecret(ref: SecretRef, where: string, env: NodeJS.ProcessEnv = process.env): string {
  if ("env" in ref) {
    const value = env[ref.env];
    if (value === undefined || value === "") {
      throw new FlotillaError(
        "FLOTILLA_E_SECRET",
        `${where}: environment variable ${ref.env} is not set; export it before starting`,
      );
    }
    return value;
  }
  try {
    return readFileSync(ref.file, "utf8").trim();
  } catch {
    throw new FlotillaError(
      "FLOTILLA_E_SECRET",
      `${where}: cannot read secret file ${ref.file}; check the path and its permissions`,
    );
  }
}

/** Names of the environment variables that the providers' secret references point at (the gateway's). */
export function providerSecretNames(config: FlotillaConfig): string[] {
  const names = new Set<string>();
  for (const provider of config.providers) {
    const refs = [...provider.keys, ...(provider.auth?.clientSecret ? [provider.auth.clientSecret] : [])];
    for (const ref of refs) if ("env" in ref) names.add(ref.env);
  }
  return [...names];
}

/**
 * Every secret reference of the config: the providers' keys and OAuth client secrets, the agents' env, the
 * alert channels, the repositories' CI tokens and the injection's OpenClaw token. What hides secret files
 * from agents, redacts backups and logs, and hands secrets to the daemon all start from this one list.
 */
export function secretRefs(config: FlotillaConfig): SecretRef[] {
  const refs: unknown[] = [
    ...config.providers.flatMap((p) => [...p.keys, p.auth?.clientSecret]),
    ...config.agents.flatMap((agent) => Object.values(agent.env)),
    ...config.alerts.flatMap((channel) => [channel.url, channel.token]),
    ...config.repos.map((repo) => repo.ci?.token),
    config.oversight.inject.token,
  ];
  return refs.filter(isSecretRef);
}

/** Names of every environment variable a secret reference of the config points at. */
export function secretEnvNames(config: FlotillaConfig): string[] {
  return [...new Set(secretRefs(config).flatMap((ref) => ("env" in ref ? [ref.env] : [])))];
}

/** Every secret file the config points at. */
export function secretFiles(config: FlotillaConfig): string[] {
  return [...new Set(secretRefs(config).flatMap((ref) => ("file" in ref ? [ref.file] : [])))];
}

/**
 * The values the config's secret references point at now, each with its label (`env:NAME`, `file:PATH`);
 * unset or unreadable ones are left out, and so are values under 6 characters, too short to look for,
 * and the simulator's own keys: a stand-in provider's keys are written in the config by design.
 */
export function resolvedSecrets(
  config: FlotillaConfig,
  env: NodeJS.ProcessEnv,
): Array<{ label: string; value: string }> {
  const simulated = new Set(Object.keys(config.simulator?.keys ?? {}));
  const found: Array<{ label: string; value: string }> = [];
  for (const ref of secretRefs(config)) {
    let value: string | undefined;
    if ("env" in ref) value = env[ref.env];
    else {
      try {
        value = readFileSync(ref.file, "utf8").trim();
      } catch {
        value = undefined;
      }
    }
    if (value && value.length >= 6 && !simulated.has(value))
      found.push({ label: "env" in ref ? `env:${ref.env}` : `file:${ref.file}`, value });
  }
  return found;
}
