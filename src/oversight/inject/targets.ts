/**
 * Where an injected message goes: an OpenClaw agent's own session (POST /v1/chat/completions on its gateway
 * port with x-openclaw-session-key, which a test against the real OpenClaw showed lands in the session's
 * transcript), or for other agents the configured command (message on stdin) or URL (JSON POST).
 */
import { spawn } from "node:child_process";
import { deliveryError, postJson } from "../../alerts/post-json.ts";
import type { AgentConfig, FlotillaConfig } from "../../config/schema.ts";
import { isSecretRef, resolveSecret } from "../../config/secrets.ts";
import { agentKind } from "../../constitution/instructions-file.ts";
import type { AlertFinding } from "../../alerts/alert.ts";

/** Delivers one message into the agent's session, or throws a FLOTILLA_E_DELIVERY error. */
export type Inject = (message: string, finding: AlertFinding, signal: AbortSignal) => Promise<void>;

export interface InjectTarget {
  agent: string;
  /** openclaw, command or url: how the message travels. */
  via: "openclaw" | "command" | "url";
  send: Inject;
}

export interface TargetDeps {
  secrets: NodeJS.ProcessEnv;
  /** The agent's current virtual key: sent with a URL injection, so the agent can tell Flotilla from a forger. */
  agentKey: (agent: string) => string;
}

const WHERE = "oversight.inject";
/** Bytes of a command's stderr kept for the failure record. */
const STDERR_CAP = 2048;

/** The agent that gets critical findings: oversight.inject.agent, else the one with role coordinator. */
export function injectAgent(config: FlotillaConfig): AgentConfig | undefined {
  const name = config.oversight.inject.agent;
  return name !== undefined
    ? config.agents.find((a) => a.name === name)
    : config.agents.find((a) => a.role === "coordinator");
}

/** The target of the running config, or a reason there is none (recorded, never thrown at the runner). */
export function injectTarget(config: FlotillaConfig, deps: TargetDeps): InjectTarget | string {
  const agent = injectAgent(config);
  if (!agent)
    return "no agent to inject into: set oversight.inject.agent, or give one agent role: coordinator";
  const inject = config.oversight.inject;
  const timeoutMs = inject.timeout;
  if (inject.command)
    return { agent: agent.name, via: "command", send: commandInject(inject.command, agent.name, timeoutMs) };
  if (inject.url) {
    const url = inject.url;
    return {
      agent: agent.name,
      via: "url",
      send: async (message, finding, signal) => {
        const body = {
          type: "flotilla.injection",
          version: 1,
          agent: agent.name,
          finding: brief(finding),
          message,
        };
        const headers = { authorization: `Bearer ${deps.agentKey(agent.name)}` };
        await postJson(url, body, { where: WHERE, timeoutMs, signal, headers });
      },
    };
  }
  if (agentKind(agent) !== "openclaw")
    return `agent ${agent.name} is not OpenClaw: set oversight.inject.command or oversight.inject.url`;
  if (agent.port === undefined)
    return `agent ${agent.name} has no port: OpenClaw is reached on its gateway port`;
  const port = agent.port;
  const tokenRef = inject.token ?? agent.env.OPENCLAW_GATEWAY_TOKEN;
  return {
    agent: agent.name,
    via: "openclaw",
    send: async (message, _finding, signal) => {
      const token =
        tokenRef === undefined
          ? undefined
          : isSecretRef(tokenRef)
            ? resolveSecret(tokenRef, `${WHERE}.token`, deps.secrets)
            : tokenRef;
      // No stream: OpenClaw answers once the agent has taken the turn, so a 200 means it was read.
      const { answer } = await postJson(
        `http://127.0.0.1:${port}/v1/chat/completions`,
        { model: "openclaw/default", messages: [{ role: "user", content: message }], stream: false },
        {
          where: WHERE,
          timeoutMs,
          signal,
          headers: {
            "x-openclaw-session-key": inject.sessionKey,
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
      );
      if (!answer.includes('"choices"')) throw deliveryError(WHERE, "OpenClaw's answer has no choices");
    },
  };
}

function brief(finding: AlertFinding) {
  const { id, check, severity, agent, article, suggestion } = finding;
  return { id, check, severity, agent, article, suggestion };
}

/** Runs argv (no shell) with the message on stdin; exit 0 within the timeout is delivered. */
function commandInject(argv: readonly string[], agent: string, timeoutMs: number): Inject {
  return (message, finding, signal) =>
    new Promise<void>((resolve, reject) => {
      const [program = "", ...args] = argv;
      const child = spawn(program, args, {
        stdio: ["pipe", "ignore", "pipe"],
        detached: true,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          FLOTILLA_AGENT_NAME: agent,
          FLOTILLA_FINDING_ID: finding.id,
          FLOTILLA_FINDING_SEVERITY: finding.severity,
        },
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        if (stderr.length < STDERR_CAP) stderr += chunk.toString("utf8");
      });
      let reason: string | undefined;
      const kill = (why: string) => {
        reason = why;
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => kill(`the command took over ${timeoutMs} ms`), timeoutMs);
      const onAbort = () => kill("cancelled");
      signal.addEventListener("abort", onAbort, { once: true });
      child.stdin.on("error", () => {}); // a command that does not read stdin closes it early
      child.stdin.end(message);
      child.on("error", (err: NodeJS.ErrnoException) => {
        reason = `cannot run ${program} (${err.code ?? "error"})`;
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        if (code === 0 && reason === undefined) return resolve();
        const tail = stderr.trim().split("\n").at(-1)?.slice(0, 200);
        reject(
          deliveryError(
            WHERE,
            reason ?? `the command exited ${code ?? "on a signal"}${tail ? `: ${tail}` : ""}`,
          ),
        );
      });
    });
}
