/** Installs a real OpenClaw gateway into a cache folder outside the project's dependencies, once per machine. */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";

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
