/** The flotilla.yaml schema: one zod schema, validated once at the edge, exported as JSON Schema too. */
import { z } from "zod";
import {
  budgetSchema,
  chainEntry,
  gatewaySchema,
  providerSchema,
  simulatorSchema,
} from "./gateway-schema.ts";
import { type CrossFieldIssue, crossFieldIssues } from "./cross-field.ts";
import { duration, secretRef } from "./fields.ts";
import { alertChannelSchema, oversightSchema, repoSchema } from "./oversight-schema.ts";
import { inlineSecretIssues } from "./inline-secrets.ts";
import { watchdogSchema } from "./watchdog-schema.ts";
import { parseBurst, parseSize, SIZE_PATTERN } from "./units.ts";

const size = z
  .string()
  .regex(SIZE_PATTERN, { message: 'must be a size such as "512M" or "2G"' })
  .transform((text) => parseSize(text) ?? 0);

export type { SecretRef } from "./fields.ts";

const restart = z
  .strictObject({
    policy: z
      .enum(["on-failure", "always", "never"])
      .prefault("on-failure")
      .describe("When to restart: on-failure (non-zero exit or signal), always, or never"),
    delay: duration("30s").prefault("30s").describe("Wait before the first restart"),
    maxDelay: duration("5m").prefault("5m").describe("Cap for the exponential backoff between restarts"),
    burst: z
      .string()
      .refine((text) => parseBurst(text) !== undefined, {
        message: 'must be "COUNT/WINDOW", such as "5/10m"',
      })
      .transform((text) => parseBurst(text) ?? { count: 5, windowMs: 600_000 })
      .prefault("5/10m")
      .describe("At most this many starts within the window; one more and the agent is marked failed"),
    resetAfter: duration("1m")
      .prefault("1m")
      .describe("Uptime after which the backoff starts again from delay"),
  })
  .describe("Restart policy");

const probeTiming = {
  grace: duration("60s").prefault("60s").describe("How long a starting agent may take to become healthy"),
  interval: duration("5s").prefault("5s").describe("Time between probes"),
  timeout: duration("2s").prefault("2s").describe("How long one probe may take"),
  failures: z.number().int().min(1).prefault(3).describe("Consecutive failed probes that mean unhealthy"),
};

const health = z
  .union([
    z.strictObject({
      http: z
        .string()
        .startsWith("/", { message: 'must be a path such as "/health"' })
        .describe("HTTP GET path on 127.0.0.1:port; 2xx/3xx is healthy"),
      ...probeTiming,
    }),
    z.strictObject({
      tcp: z.literal(true).describe("Healthy when 127.0.0.1:port accepts a connection"),
      ...probeTiming,
    }),
    z.strictObject({ process: z.literal(true).describe("Healthy while the process runs"), ...probeTiming }),
  ])
  .describe("Health probe: { http: /path } on the agent's port, { tcp: true }, or { process: true }");

const limits = z
  .strictObject({
    memory: size
      .optional()
      .describe(
        "Memory cap such as 512M (cgroup v2 memory.max, else v1 memory.limit_in_bytes; a warning where not writable)",
      ),
    cpu: z
      .number()
      .positive()
      .optional()
      .describe("CPU cap in cores, such as 0.5 (cgroup v2 cpu.max, else v1 cpu.cfs_quota_us)"),
    files: z.number().int().positive().optional().describe("Open file limit (RLIMIT_NOFILE)"),
  })
  .describe("Resource limits");

const isolationMode = z
  .enum(["sandbox", "user", "none"])
  .describe(
    "sandbox: a bubblewrap sandbox (own PID namespace, state dir and other workspaces hidden, the system read-only); user: a user of its own (the daemon runs as root); none: not isolated",
  );

const isolationFields = {
  writable: z
    .array(z.string().min(1))
    .prefault([])
    .describe("Paths the agent may write besides its workspace and its own /tmp (sandbox)"),
  readable: z
    .array(z.string().min(1))
    .prefault([])
    .describe("Paths hidden by default (another agent's workspace) that the agent may read (sandbox)"),
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*$|^[0-9]+$/, { message: "must be a user name or a numeric uid" })
    .optional()
    .describe("mode user: the user the agent runs as (default: flotilla-<agent>, created when createUser)"),
  group: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*$|^[0-9]+$/, { message: "must be a group name or a numeric gid" })
    .optional()
    .describe("mode user: the group the agent runs as (default: the user's own group)"),
  createUser: z
    .boolean()
    .prefault(false)
    .describe("mode user: create the system user flotilla-<agent> when it does not exist"),
};

interface IsolationObject {
  mode?: z.infer<typeof isolationMode>;
  writable: string[];
  readable: string[];
  user?: string;
  group?: string;
  createUser: boolean;
}

/** A bare mode word stands for an object with that mode and nothing granted. */
const modeWord = isolationMode.transform((mode): IsolationObject => ({
  mode,
  writable: [],
  readable: [],
  createUser: false,
}));

/** The fleet's isolation: a mode word, or an object with the mode and what the sandbox grants. */
const fleetIsolation = z
  .union([modeWord, z.strictObject({ mode: isolationMode.prefault("sandbox"), ...isolationFields })])
  .describe("How agents are confined (docs/security.md): sandbox, user or none, or an object with mode");

/** An agent's override: its mode replaces the fleet's; its writable and readable paths add to the fleet's. */
const agentIsolation = z
  .union([modeWord, z.strictObject({ mode: isolationMode.optional(), ...isolationFields })])
  .describe("This agent's isolation; overrides the fleet's mode, adds to its paths");

export type IsolationMode = z.infer<typeof isolationMode>;

const envValue = z.union([
  z.string(),
  z.number().transform(String),
  z.boolean().transform(String),
  secretRef,
]);

/** What an agent runs; it decides which instructions file carries the pointer to its brief. */
export const AGENT_KINDS = ["openclaw", "claude-code", "codex", "process"] as const;

export const agentSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/, {
        message: "must be lower-case letters, digits and dashes, starting with a letter",
      })
      .describe("Unique agent name"),
    role: z
      .string()
      .optional()
      .describe("Role such as coordinator, coder, reviewer; the coordinator gets priority"),
    kind: z
      .enum(AGENT_KINDS)
      .optional()
      .describe(
        "What runs: openclaw or codex (brief pointer in AGENTS.md), claude-code (in CLAUDE.md), process (none); default openclaw when the command runs openclaw, else process",
      ),
    command: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe("Command line (run with /bin/sh) or an argv array"),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe("TCP port the agent listens on; passed as PORT"),
    workspace: z.string().min(1).describe("Working directory; created if missing"),
    env: z
      .record(z.string(), envValue)
      .prefault({})
      .describe(
        "Environment for the agent; nothing else leaks in. A value shaped like a key or token is refused: write { env: NAME } or { file: PATH }",
      ),
    restart: restart.prefault({}),
    health: health.prefault({ process: true }),
    stopTimeout: duration("10s").prefault("10s").describe("Wait after SIGTERM before SIGKILL"),
    limits: limits.prefault({}),
    autostart: z.boolean().prefault(true).describe("Start this agent with the fleet"),
    model: z
      .string()
      .optional()
      .describe("Logical model (a key of models) the agent's traffic goes to by default"),
    budget: budgetSchema.optional(),
    isolation: agentIsolation.optional(),
  })
  .describe("One supervised agent");

/** Where a policy applies: the kinds of dispatched work (see docs/constitution.md). */
export const POLICY_SCOPES = ["task", "steer", "parallel"] as const;

const policySchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, { message: "must be lower-case letters, digits and dashes" })
      .optional()
      .describe("Short name shown in previews; defaults to policy-<index>"),
    text: z.string().trim().min(1, { message: "must not be empty" }).describe("The rule, as sent"),
    scope: z
      .array(z.enum(POLICY_SCOPES))
      .min(1, { message: "needs at least one of task, steer, parallel" })
      .prefault([...POLICY_SCOPES])
      .describe("Kinds of dispatched work the rule is added to: task, steer, parallel"),
    agents: z.array(z.string()).min(1).optional().describe("Only these agents (default: every agent)"),
  })
  .describe("A scoped rule added before the prompt of dispatched work");

const constitutionSchema = z
  .strictObject({
    articles: z
      .string()
      .min(1)
      .prefault("./constitution.md")
      .describe(
        "The articles: numbered Markdown headings, Article I supreme (relative to this file); backed up and watched for drift",
      ),
    required: z
      .boolean()
      .prefault(false)
      .describe("Block dispatched work while the constitution is missing or empty"),
    penaltyCap: z
      .number()
      .int()
      .min(1)
      .max(500)
      .prefault(20)
      .describe("Most recent penalties of an agent shown in its brief"),
    policies: z.array(policySchema).prefault([]).describe("Scoped rules for dispatched work"),
  })
  .describe("The constitution, the startup brief and policy injection (docs/constitution.md)");

export const configSchema = z
  .strictObject({
    version: z.literal(1).describe("Config format version; always 1 for now"),
    stateDir: z
      .string()
      .prefault("./.flotilla")
      .describe("Ledger, logs, run files and the API token (mode 0700)"),
    api: z
      .strictObject({
        listen: z
          .string()
          .regex(/^[^:]+:\d+$/, {
            message: 'must be "HOST:PORT", such as "127.0.0.1:48310" (port 0 picks one)',
          })
          .prefault("127.0.0.1:0")
          .describe("Control API address; loopback by default"),
      })
      .prefault({})
      .describe("The daemon's control API (token in <stateDir>/token)"),
    logs: z
      .strictObject({
        maxSize: size.prefault("10M").describe("Rotate an agent's log file at this size"),
        keep: z.number().int().min(0).prefault(3).describe("Rotated files to keep"),
        ringLines: z.number().int().min(10).prefault(1000).describe("Last lines kept in memory per agent"),
      })
      .prefault({})
      .describe("Agent log files under <stateDir>/logs"),
    inheritEnv: z
      .array(z.string())
      .prefault(["PATH", "HOME", "USER", "LANG", "TZ"])
      .describe("Non-secret variables of the daemon's environment that agents also get"),
    isolation: fleetIsolation.prefault({}),
    agents: z.array(agentSchema).prefault([]).describe("The fleet"),
    constitution: constitutionSchema.prefault({}),
    gateway: gatewaySchema.prefault({}),
    providers: z.array(providerSchema).prefault([]).describe("Upstream LLM providers the gateway may use"),
    models: z
      .record(z.string(), z.array(chainEntry).min(1, { message: "needs at least one chain entry" }))
      .prefault({})
      .describe("Logical model name → ordered failover chain"),
    migrations: z
      .strictObject({
        healthTimeout: duration("60s")
          .prefault("60s")
          .describe("How long `config apply` waits for restarted and added agents to be healthy"),
        healthyFor: duration("3s")
          .prefault("3s")
          .describe("How long those agents must stay running, without a restart, to count as healthy"),
        lastKnownGoodAfter: duration("10m")
          .prefault("10m")
          .describe("A config the fleet has been healthy on this long becomes the last known good"),
        keepBackups: z.number().int().min(1).prefault(20).describe("Backups kept under <stateDir>/backups"),
      })
      .prefault({})
      .describe("Config changes as migrations: apply, health check, rollback, backups"),
    drift: z
      .strictObject({
        every: duration("30s")
          .prefault("30s")
          .describe("How often the daemon compares the files it manages with what it last wrote"),
      })
      .prefault({})
      .describe("Drift detection for managed files (config, constitution, briefs)"),
    simulator: simulatorSchema.optional(),
    oversight: oversightSchema.prefault({}),
    alerts: z
      .array(alertChannelSchema)
      .prefault([])
      .describe("Where oversight's alerts and the watchdog's escalations go"),
    repos: z.array(repoSchema).prefault([]).describe("Repositories oversight audits and the gate guards"),
    watchdog: watchdogSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    for (const issue of configIssues(config)) ctx.addIssue({ code: "custom", ...issue });
  });

/** Problems beyond one field's shape: cross-field checks and inline secrets (safe on a raw document too). */
export function configIssues(config: unknown): CrossFieldIssue[] {
  return [...crossFieldIssues(config), ...inlineSecretIssues(config)];
}

export type FlotillaConfig = z.output<typeof configSchema>;
export type AgentConfig = z.output<typeof agentSchema>;
export type ConstitutionConfig = z.output<typeof constitutionSchema>;
export type OversightConfig = z.output<typeof oversightSchema>;
export type AlertChannelConfig = z.output<typeof alertChannelSchema>;
export type RepoConfig = z.output<typeof repoSchema>;
export type WatchdogConfig = z.output<typeof watchdogSchema>;
export type AgentKind = (typeof AGENT_KINDS)[number];
export type PolicyScope = (typeof POLICY_SCOPES)[number];

/** Keys that older configs used, with what to write instead. */
export const RETIRED_KEYS: Record<string, string> = {
  cmd: 'renamed to "command"',
  cwd: 'renamed to "workspace"',
  restartDelay: 'moved to "restart.delay"',
  healthcheck: 'renamed to "health"',
};

/** The JSON Schema that editors use for flotilla.yaml (input form: durations as strings). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
