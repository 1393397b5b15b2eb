/**
 * Installs a real OpenClaw gateway into a cache folder outside the project's dependencies, once per machine;
 * its config, the fleet YAML that supervises it, and a read-only view of its transcripts.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { zstdDecompressSync } from "node:zlib";
import { NODE } from "./fleet.ts";

export const OPENCLAW_VERSION = "2026.9.6";

function cacheDir(): string {
  return (
    process.env.FLOTILLA_TEST_CACHE ??
    join(homedir(), ".cache", "flotilla-test", `openclaw-${OPENCLAW_VERSION}`)
  );
}

/** The absolute path of OpenClaw's CLI entry script, installing the package first when needed (about a minute). */
export async function ensureOpenClaw(): Promise<string> {
  const dir = cacheDir();
  const pkgFile = join(dir, "node_modules", "openclaw", "package.json");
  if (
    !existsSync(pkgFile) ||
    (JSON.parse(readFileSync(pkgFile, "utf8")) as { version: string }).version !== OPENCLAW_VERSION
  ) {
    mkdirSync(dir, { recursive: true });
    // npm is a Node script: with Node 24 first on PATH the package's engines check sees Node 24.
    const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}` };
    await new Promise<void>((resolve, reject) => {
      execFile(
        "npm",
        [
          "install",
          "--prefix",
          dir,
          `openclaw@${OPENCLAW_VERSION}`,
          "--no-audit",
          "--no-fund",
          "--loglevel=error",
        ],
        { env, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
        (err, _stdout, stderr) =>
          err ? reject(new Error(`npm install openclaw failed: ${stderr}`)) : resolve(),
      );
    });
  }
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as {
    version: string;
    bin: string | Record<string, string>;
  };
  if (pkg.version !== OPENCLAW_VERSION)
    throw new Error(`installed openclaw is ${pkg.version}, not ${OPENCLAW_VERSION}`);
  const bin = typeof pkg.bin === "string" ? pkg.bin : (pkg.bin.openclaw ?? Object.values(pkg.bin)[0] ?? "");
  return join(dir, "node_modules", "openclaw", bin);
}

/** The minimal offline gateway config the design notes verified. */
export function openClawConfig(home: string, upstreamPort: number): Record<string, unknown> {
  return {
    gateway: {
      mode: "local",
      bind: "loopback",
      auth: { mode: "token" },
      http: { endpoints: { chatCompletions: { enabled: true } } },
    },
    agents: {
      defaults: {
        model: { primary: "flotilla/demo" },
        workspace: join(home, "workspace"),
        heartbeat: { every: "0m" },
      },
    },
    cron: { enabled: false },
    plugins: { enabled: false },
    logging: { file: join(home, "openclaw.log") },
    models: {
      providers: {
        flotilla: {
          baseUrl: `http://127.0.0.1:${upstreamPort}/v1`,
          // OpenClaw expands this from the agent's env itself: the virtual key Flotilla gives the agent.
          apiKey: "${FLOTILLA_AGENT_KEY}",
          api: "openai-completions",
          models: [{ id: "demo", name: "demo" }],
        },
      },
    },
  };
}

/** The OpenClaw profile the test fleets run. */
export const PROFILE = "fleet";

/** An OpenClaw gateway as a fleet agent (YAML lines under agents:), sandboxed, with its gateway token. */
export function clawAgent(name: string, entry: string, port: number, home: string, extra = ""): string {
  const env = {
    OPENCLAW_HOME: home,
    OPENCLAW_OFFLINE: "1",
    OPENCLAW_DISABLE_BONJOUR: "1",
    OPENCLAW_GATEWAY_TOKEN: "test-gateway-token",
    // The sandbox keeps the real HOME read-only; OpenClaw writes caches under it.
    HOME: home,
  };
  return `  - name: ${name}
    command: [${JSON.stringify(NODE)}, ${JSON.stringify(entry)}, "--profile", "${PROFILE}", "gateway", "run", "--port", "${port}"]
    port: ${port}
    workspace: ${JSON.stringify(join(home, "workspace"))}
    env: ${JSON.stringify(env)}
    health: { http: /health, grace: 280s, interval: 1s, timeout: 3s }
    stopTimeout: 20s
    isolation: { writable: [${JSON.stringify(home)}] }
${extra}`;
}

/** Writes OpenClaw's own config into its home. */
export function writeOpenClawHome(
  home: string,
  upstreamPort: number,
  config: unknown = openClawConfig(home, upstreamPort),
): void {
  mkdirSync(join(home, `.openclaw-${PROFILE}`), { recursive: true });
  writeFileSync(
    join(home, `.openclaw-${PROFILE}`, "openclaw.json"),
    typeof config === "string" ? config : JSON.stringify(config, null, 2),
  );
}

/** Flotilla's gateway in front of the simulator (YAML), with the logical model demo. */
export function gatewayBlock(gateway: number, sim: number): string {
  return `gateway: { listen: 127.0.0.1:${gateway} }
simulator:
  listen: 127.0.0.1:${sim}
  keys: { sim-key: { rpm: 600, tpm: 10000000 } }
providers:
  - { id: sim, kind: openai, baseUrl: http://127.0.0.1:${sim}/v1, keys: [{ env: SIM_KEY }] }
models:
  demo: [{ provider: sim, model: sim-large }]
`;
}

export interface TranscriptMessage {
  sessionId: string;
  seq: number;
  role: string;
  text: string;
}

/**
 * Every message of every agent's transcripts, read-only (OpenClaw writes the store in WAL mode): each
 * row of transcript_events is one JSON event, plain or zstd-compressed.
 */
export function transcriptMessages(home: string): TranscriptMessage[] {
  const agents = join(home, `.openclaw-${PROFILE}`, "agents");
  if (!existsSync(agents)) return [];
  const messages: TranscriptMessage[] = [];
  for (const agent of readdirSync(agents)) {
    const file = join(agents, agent, "agent", "openclaw-agent.sqlite");
    if (!existsSync(file)) continue;
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const rows = db
        .prepare(
          "SELECT session_id, seq, event_json, event_zstd FROM transcript_events ORDER BY session_id, seq",
        )
        .all() as Array<{
        session_id: string;
        seq: number;
        event_json: string | null;
        event_zstd: Uint8Array | null;
      }>;
      for (const row of rows) {
        const json =
          row.event_json ?? (row.event_zstd ? zstdDecompressSync(row.event_zstd).toString("utf8") : "{}");
        const event = JSON.parse(json) as { type?: string; message?: { role?: string; content?: unknown } };
        if (event.type !== "message" || !event.message) continue;
        const content = event.message.content;
        const text =
          typeof content === "string"
            ? content
            : Array.isArray(content)
              ? content
                  .map((part: { text?: unknown }) => (typeof part.text === "string" ? part.text : ""))
                  .join("")
              : "";
        messages.push({ sessionId: row.session_id, seq: row.seq, role: event.message.role ?? "", text });
      }
    } finally {
      db.close();
    }
  }
  return messages;
}
