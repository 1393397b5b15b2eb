/**
 * Checks across fields of flotilla.yaml (duplicate names and ports, chains naming unknown providers,
 * reserved names, probes without a port). They read the raw document defensively, so `validate`
 * reports them in the same pass as a field that is structurally wrong elsewhere.
 */

/** One cross-field problem: where it is and what to do. */
export interface CrossFieldIssue {
  path: Array<string | number>;
  message: string;
}

type Loose = Record<string, unknown>;

/** The gateway identity of the oversight judge: reserved, so no agent can hold its key or its accounts. */
export const JUDGE_IDENTITY = "oversight";

const isRecord = (value: unknown): value is Loose =>
  value !== null && typeof value === "object" && !Array.isArray(value);
const records = (value: unknown): Loose[] =>
  Array.isArray(value) ? value.map((item) => (isRecord(item) ? item : {})) : [];
const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** Every cross-field problem in a config document, parsed or raw; fields of the wrong type are skipped. */
export function crossFieldIssues(config: unknown): CrossFieldIssue[] {
  if (!isRecord(config)) return [];
  const issues: CrossFieldIssue[] = [];
  const agents = records(config.agents);
  const providers = records(config.providers);
  const models = isRecord(config.models) ? config.models : {};
  const names = new Map<string, number>();
  const ports = new Map<number, number>();
  agents.forEach((agent, index) => {
    const name = text(agent.name);
    if (name !== undefined) {
      const sameName = names.get(name);
      if (sameName !== undefined)
        issues.push({
          path: ["agents", index, "name"],
          message: `duplicate agent name "${name}" (also agents.${sameName}); give each agent its own name`,
        });
      else names.set(name, index);
    }
    if (typeof agent.port !== "number") return;
    const samePort = ports.get(agent.port);
    if (samePort !== undefined)
      issues.push({
        path: ["agents", index, "port"],
        message: `port ${agent.port} is also used by agents.${samePort}; give each agent its own port`,
      });
    else ports.set(agent.port, index);
  });
  const providerIds = new Set<string>();
  providers.forEach((provider, index) => {
    const id = text(provider.id);
    if (id === undefined) return;
    if (providerIds.has(id))
      issues.push({ path: ["providers", index, "id"], message: `duplicate provider id "${id}"` });
    providerIds.add(id);
  });
  for (const [name, chain] of Object.entries(models)) {
    records(chain).forEach((entry, index) => {
      const provider = text(entry.provider);
      if (provider !== undefined && !providerIds.has(provider))
        issues.push({
          path: ["models", name, index, "provider"],
          message: `no provider "${provider}" (providers: ${[...providerIds].join(", ") || "none"}); add it under providers or fix the id`,
        });
    });
  }
  agents.forEach((agent, index) => {
    if (agent.name === "gateway" && providers.length > 0)
      issues.push({
        path: ["agents", index, "name"],
        message: 'the name "gateway" is taken by Flotilla\'s own gateway process; rename this agent',
      });
    if (agent.name === JUDGE_IDENTITY)
      issues.push({
        path: ["agents", index, "name"],
        message: `the name "${JUDGE_IDENTITY}" is taken by the oversight judge's gateway identity; rename this agent`,
      });
    if (agent.name === "simulator" && config.simulator !== undefined)
      issues.push({
        path: ["agents", index, "name"],
        message: 'the name "simulator" is taken by the provider simulator (simulator:); rename this agent',
      });
    const model = text(agent.model);
    if (model !== undefined && !(model in models))
      issues.push({
        path: ["agents", index, "model"],
        message: `no logical model "${model}" (models: ${Object.keys(models).join(", ") || "none"}); define it under models`,
      });
  });
  issues.push(...oversightIssues(config, agents, models));
  const constitution = isRecord(config.constitution) ? config.constitution : {};
  records(constitution.policies).forEach((policy, index) => {
    if (!Array.isArray(policy.agents)) return;
    policy.agents.forEach((name: unknown, at) => {
      if (typeof name === "string" && !names.has(name))
        issues.push({
          path: ["constitution", "policies", index, "agents", at],
          message: `no agent named "${name}" (agents: ${[...names.keys()].join(", ") || "none"})`,
        });
    });
  });
  agents.forEach((agent, index) => {
    const health = agent.health;
    if (isRecord(health) && ("http" in health || "tcp" in health) && agent.port === undefined)
      issues.push({
        path: ["agents", index, "health"],
        message: "an http or tcp probe needs the agent's port; set port, or use { process: true }",
      });
  });
  issues.push(...alertIssues(config, names));
  issues.push(...repoIssues(records(config.repos)));
  return issues;
}

/** What each alert channel kind needs besides its kind. */
const CHANNEL_NEEDS: Record<string, string[]> = {
  webhook: ["url"],
  slack: ["url"],
  discord: ["url"],
  telegram: ["token", "chatId"],
  file: ["path"],
  stdout: [],
};

/** Alert channels (what each kind needs, unique ids) and the oversight fields that name channels or agents. */
function alertIssues(config: Loose, agentNames: Map<string, number>): CrossFieldIssue[] {
  const issues: CrossFieldIssue[] = [];
  const ids = new Map<string, number>();
  records(config.alerts).forEach((channel, index) => {
    const id = text(channel.id);
    if (id !== undefined) {
      const same = ids.get(id);
      if (same !== undefined)
        issues.push({
          path: ["alerts", index, "id"],
          message: `duplicate alert channel id "${id}" (also alerts.${same}); give each channel its own id`,
        });
      else ids.set(id, index);
    }
    const kind = text(channel.kind) ?? "";
    for (const field of CHANNEL_NEEDS[kind] ?? [])
      if (channel[field] === undefined)
        issues.push({
          path: ["alerts", index, field],
          message: `a ${kind} channel needs ${field}${field === "url" || field === "token" ? " (a secret reference, { env: NAME } or { file: path })" : ""}`,
        });
  });
  const oversight = isRecord(config.oversight) ? config.oversight : {};
  if (Array.isArray(oversight.alerts))
    oversight.alerts.forEach((id: unknown, index) => {
      if (typeof id === "string" && !ids.has(id))
        issues.push({
          path: ["oversight", "alerts", index],
          message: `no alert channel "${id}" (alerts: ${[...ids.keys()].join(", ") || "none"}); add it under alerts or fix the id`,
        });
    });
  const watchdog = isRecord(config.watchdog) ? config.watchdog : {};
  if (Array.isArray(watchdog.alerts))
    watchdog.alerts.forEach((id: unknown, index) => {
      if (typeof id === "string" && !ids.has(id))
        issues.push({
          path: ["watchdog", "alerts", index],
          message: `no alert channel "${id}" (alerts: ${[...ids.keys()].join(", ") || "none"}); add it under alerts or fix the id`,
        });
    });
  const inject = isRecord(oversight.inject) ? oversight.inject : {};
  const agent = text(inject.agent);
  if (agent !== undefined && !agentNames.has(agent))
    issues.push({
      path: ["oversight", "inject", "agent"],
      message: `no agent named "${agent}" (agents: ${[...agentNames.keys()].join(", ") || "none"})`,
    });
  if (inject.command !== undefined && inject.url !== undefined)
    issues.push({
      path: ["oversight", "inject", "url"],
      message: "set command or url, not both: the message goes one way",
    });
  return issues;
}

/** A repository's CI source must name what it needs: github a repo (and it must look like OWNER/NAME), command an argv. */
function repoIssues(repos: Loose[]): CrossFieldIssue[] {
  const issues: CrossFieldIssue[] = [];
  repos.forEach((repo, index) => {
    const ci = isRecord(repo.ci) ? repo.ci : undefined;
    if (!ci) return;
    if (ci.kind === "github") {
      const name = text(ci.repo);
      // Reported at kind (which is there): a path that is missing would read as a bare "is required".
      if (name === undefined)
        issues.push({
          path: ["repos", index, "ci", "kind"],
          message: `kind github needs repos.${index}.ci.repo: "OWNER/NAME" (the repository on GitHub); add it`,
        });
      else if (!/^[\w.-]+\/[\w.-]+$/.test(name))
        issues.push({
          path: ["repos", index, "ci", "repo"],
          message: `"${name}" is not OWNER/NAME; write it as on GitHub, such as acme/widgets`,
        });
      if (ci.command !== undefined)
        issues.push({
          path: ["repos", index, "ci", "command"],
          message: "command is for kind: command; a github source reads results from the API",
        });
    }
    if (ci.kind === "command" && ci.command === undefined)
      issues.push({
        path: ["repos", index, "ci", "kind"],
        message: `kind command needs repos.${index}.ci.command: the argv run in a checkout of each commit, such as ["npm", "test"]; add it`,
      });
  });
  return issues;
}

/** The first entry of a chain as "provider/model", or undefined. */
function firstEntry(chain: unknown): string | undefined {
  const [entry] = records(chain);
  const provider = text(entry?.provider);
  const model = text(entry?.model);
  return provider !== undefined && model !== undefined ? `${provider}/${model}` : undefined;
}

/**
 * Transcripts name known agents, and the judge must not grade its own model's text: oversight.model must
 * name a defined logical model that resolves to something else than every coordinator's model (another
 * name, and another first chain entry).
 */
function oversightIssues(config: Loose, agents: Loose[], models: Loose): CrossFieldIssue[] {
  const oversight = isRecord(config.oversight) ? config.oversight : {};
  const issues: CrossFieldIssue[] = [];
  const names = new Set(agents.map((agent) => text(agent.name)));
  for (const agent of Object.keys(isRecord(oversight.transcripts) ? oversight.transcripts : {}))
    if (!names.has(agent))
      issues.push({
        path: ["oversight", "transcripts", agent],
        message: `no agent named "${agent}" (agents: ${[...names].filter(Boolean).join(", ") || "none"})`,
      });
  const healer = isRecord(config.watchdog) ? text(config.watchdog.model) : undefined;
  if (healer !== undefined && !(healer in models))
    issues.push({
      path: ["watchdog", "model"],
      message: `no logical model "${healer}" (models: ${Object.keys(models).join(", ") || "none"}); define it under models, or remove it for the deterministic path only`,
    });
  const judge = text(oversight.model);
  if (judge === undefined) return issues;
  const path = ["oversight", "model"];
  if (!(judge in models)) {
    issues.push({
      path,
      message: `no logical model "${judge}" (models: ${Object.keys(models).join(", ") || "none"}); define it under models`,
    });
    return issues;
  }
  for (const agent of agents) {
    const own = text(agent.model);
    if (agent.role !== "coordinator" || own === undefined) continue;
    const same = own === judge || (firstEntry(models[own]) ?? "") === firstEntry(models[judge]);
    if (same)
      issues.push({
        path,
        message: `"${judge}" resolves to the same model as the coordinator ${String(agent.name)}'s "${own}" (${firstEntry(models[judge]) ?? judge}); the judge must not grade its own model's work: pick a model whose first chain entry differs`,
      });
  }
  return issues;
}
