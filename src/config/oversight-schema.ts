/**
 * The oversight part of flotilla.yaml: the pass (oversight:), its alert channels (alerts:) and the
 * repositories whose pushes it audits (repos:). See docs/oversight.md and docs/gate.md.
 */
import { z } from "zod";
import { duration, secretRef } from "./fields.ts";

const count = z.number().int().positive();
const share = z.number().min(0).max(1);
const channelId = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, {
  message: "must be lower-case letters, digits and dashes, starting with a letter",
});

/** Where a finding goes into an agent's session (the coordinator's by default). */
const injectSchema = z
  .strictObject({
    agent: z
      .string()
      .optional()
      .describe("Agent whose session gets critical findings (default: the agent with role coordinator)"),
    command: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("For agents other than OpenClaw: argv run with the message on stdin"),
    url: z
      .string()
      .url()
      .optional()
      .describe("For agents other than OpenClaw: an endpoint that gets the message as a JSON POST"),
    sessionKey: z
      .string()
      .min(1)
      .prefault("main")
      .describe("OpenClaw: the session the message goes into (x-openclaw-session-key)"),
    token: secretRef
      .optional()
      .describe(
        "OpenClaw: its gateway token, as a secret reference (default: the agent's OPENCLAW_GATEWAY_TOKEN)",
      ),
    timeout: duration("2m")
      .prefault("2m")
      .describe("How long one injection may take (an OpenClaw turn answers when the agent has read it)"),
    escalateAfter: count
      .prefault(3)
      .describe("Runs a critical finding may stay unacknowledged before it goes to the alert channels"),
  })
  .prefault({})
  .describe("Injection of critical findings into the coordinator's session");

/** Thresholds of the deterministic checks; the defaults suit a fleet of a handful of agents. */
const thresholdsSchema = z
  .strictObject({
    repeatedRequests: count
      .prefault(20)
      .describe("Near-identical gateway requests by one agent within a run that count as a loop"),
    burnFactor: z
      .number()
      .min(1)
      .prefault(5)
      .describe("Tokens per run above this multiple of the agent's own baseline are a runaway"),
    fallbackShare: share
      .prefault(0.5)
      .describe("Share of an agent's requests answered by a fallback tier that is a finding"),
    contextPressure: share
      .prefault(0.9)
      .describe("Share of the context window a request may fill before it is a finding"),
    noiseCommits: count
      .prefault(10)
      .describe("Near-identical small commits within noiseWindow that count as commit noise"),
    noiseWindow: duration("1h").prefault("1h").describe("Window for commit noise"),
    formatFiles: count
      .prefault(20)
      .describe("Files changed only in whitespace or formatting in one push that count as mass reformatting"),
    maxFiles: count.prefault(50).describe("Files one push may touch without an override"),
    handoffStaleAfter: duration("2h")
      .prefault("2h")
      .describe("HANDOFF.md older than the latest commit by more than this is stale"),
  })
  .prefault({})
  .describe("Thresholds of the deterministic checks");

export const oversightSchema = z
  .strictObject({
    enabled: z.boolean().prefault(true).describe("Run the oversight pass inside the daemon"),
    every: duration("5m").prefault("5m").describe("How often the pass runs"),
    model: z
      .string()
      .optional()
      .describe(
        "Logical model (a key of models) for the judge; must differ from the coordinator's; no judge without it",
      ),
    maxTokensPerRun: count.prefault(20_000).describe("Judge tokens (in and out) one run may spend"),
    judgeTimeout: duration("30s")
      .prefault("30s")
      .describe("How long one judge call may take before the run notes the judge as unavailable"),
    transcriptReadLimit: count
      .prefault(262_144)
      .describe("Transcript bytes one run reads per agent; the rest waits for the next run"),
    autoPenalty: z
      .boolean()
      .prefault(false)
      .describe("Accept the penalty a confirmed finding drafts without an operator"),
    alerts: z
      .array(channelId)
      .optional()
      .describe("Ids of the alert channels findings go to (default: every channel under alerts)"),
    transcripts: z
      .record(z.string(), z.string().min(1))
      .prefault({})
      .describe(
        "Agent name → transcript file the judge reads (OpenClaw agents are read from their own store)",
      ),
    inject: injectSchema,
    thresholds: thresholdsSchema,
  })
  .describe("The oversight pass: deterministic checks, the judge, alerts and injection (docs/oversight.md)");

export const ALERT_KINDS = ["webhook", "slack", "discord", "telegram", "file", "stdout"] as const;

export const alertChannelSchema = z
  .strictObject({
    id: channelId.describe("Unique channel id, named by oversight.alerts"),
    kind: z
      .enum(ALERT_KINDS)
      .describe("webhook (JSON), slack, discord, telegram, file (append-only) or stdout"),
    url: secretRef.optional().describe("webhook, slack, discord: the URL, as a secret reference"),
    token: secretRef.optional().describe("telegram: the bot token, as a secret reference"),
    chatId: z.string().optional().describe("telegram: the chat to post to"),
    apiUrl: z
      .string()
      .url()
      .prefault("https://api.telegram.org")
      .describe("telegram: the Bot API's base URL"),
    path: z.string().optional().describe("file: the file alerts are appended to"),
    minSeverity: z
      .enum(["info", "warning", "critical"])
      .prefault("warning")
      .describe("Findings below this severity are not sent here"),
    throttle: duration("30m").prefault("30m").describe("The same finding is sent again at most this often"),
    timeout: duration("10s").prefault("10s").describe("How long one delivery may take before it is retried"),
  })
  .describe("One alert channel");

export const CI_KINDS = ["github", "command"] as const;

export const repoSchema = z
  .strictObject({
    path: z.string().min(1).describe("Local path of the repository (a work tree or a bare repository)"),
    branches: z.array(z.string().min(1)).prefault(["main"]).describe("Protected branches"),
    ci: z
      .strictObject({
        kind: z.enum(CI_KINDS).describe("github (the REST API) or command (run on each commit)"),
        repo: z.string().optional().describe("github: OWNER/NAME"),
        apiUrl: z.string().url().prefault("https://api.github.com").describe("github: the API's base URL"),
        token: secretRef.optional().describe("github: a token, as a secret reference"),
        command: z
          .array(z.string().min(1))
          .min(1)
          .optional()
          .describe("command: argv run in a checkout of the commit; exit 0 is green"),
        timeout: duration("10m").prefault("10m").describe("command: how long one run may take"),
        pendingGrace: duration("30m")
          .prefault("30m")
          .describe("How long a commit's CI may stay pending or unreported before that is a finding"),
      })
      .optional()
      .describe("Where the repository's CI results come from"),
    test: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("The repository's local test command (argv), run by the pre-push gate"),
    gate: z
      .strictObject({
        maxFiles: count
          .optional()
          .describe("Files one push may touch here (overrides oversight.thresholds.maxFiles)"),
        formatFiles: count
          .optional()
          .describe(
            "Format-only files one push may change here (overrides oversight.thresholds.formatFiles)",
          ),
        noiseCommits: count
          .optional()
          .describe(
            "Near-identical commits one push may carry here (overrides oversight.thresholds.noiseCommits)",
          ),
      })
      .prefault({})
      .describe("The operator's overrides of the gate's limits for this repository (docs/gate.md)"),
  })
  .describe("A repository whose pushes oversight audits and the gate guards");
