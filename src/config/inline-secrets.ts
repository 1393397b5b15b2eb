/**
 * Refuses secrets written inline in an agent's env: a value shaped like a provider key or token
 * belongs in the daemon's environment ({ env: NAME }) or a file ({ file: PATH }), not in the config.
 */
import type { CrossFieldIssue } from "./cross-field.ts";

/** Shapes of provider keys and tokens, each with what it is (the message never repeats the value). */
const SECRET_SHAPES: Array<[RegExp, string]> = [
  [/^sk-ant-[A-Za-z0-9_-]{16,}$/, "an Anthropic API key"],
  [/^sk-[A-Za-z0-9_-]{20,}$/, "an OpenAI-style API key"],
  [/^(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})$/, "a GitHub token"],
  [/^AIza[0-9A-Za-z_-]{30,}$/, "a Google API key"],
  [/^(?:AKIA|ASIA)[0-9A-Z]{16}$/, "an AWS access key id"],
  [/^xox[abposr]-[A-Za-z0-9-]{10,}$/, "a Slack token"],
  [/^(?:hf|gsk|xai|glpat|npm)[_-][A-Za-z0-9_-]{20,}$/, "a provider access token"],
  [/^(?:Bearer\s+)?eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*$/, "a JWT bearer token"],
  [/^-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
];

/** What an inline value looks like, when it looks like a key or token. */
export function secretShape(value: string): string | undefined {
  const trimmed = value.trim();
  return SECRET_SHAPES.find(([shape]) => shape.test(trimmed))?.[1];
}

/** Every agent env value that is a string shaped like a secret. */
export function inlineSecretIssues(config: unknown): CrossFieldIssue[] {
  if (config === null || typeof config !== "object" || !("agents" in config)) return [];
  const agents = (config as { agents: unknown }).agents;
  if (!Array.isArray(agents)) return [];
  const issues: CrossFieldIssue[] = [];
  agents.forEach((agent: unknown, index) => {
    const env = agent !== null && typeof agent === "object" ? (agent as { env?: unknown }).env : undefined;
    if (env === null || typeof env !== "object") return;
    for (const [name, value] of Object.entries(env)) {
      const shape = typeof value === "string" ? secretShape(value) : undefined;
      if (shape)
        issues.push({
          path: ["agents", index, "env", name],
          message: `looks like ${shape} written inline; keep secrets out of the config: write { env: NAME } (a variable of the daemon's environment) or { file: PATH }`,
        });
    }
  });
  return issues;
}
