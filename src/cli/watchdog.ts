/**
 * `flotilla watchdog [--once] [--every 15m] [--state-dir DIR]`: the independent healer. It depends on neither
 * the daemon, the gateway nor oversight; one lock per state dir keeps a second watchdog off the fleet.
 */
import { useProxySettings } from "../net/outbound.ts";
import { existsSync, readFileSync } from "node:fs";
import { parseDuration } from "../config/units.ts";
import { findConfigFile, type LoadedConfig } from "../config/load.ts";
import { FlotillaError } from "../errors.ts";
import { acquireWatchdogLock } from "../watchdog/lock.ts";
import { loadRunConfig } from "../watchdog/run-config.ts";
import { openWatchdogState } from "../watchdog/state-store.ts";
import { type RunSummary, runOnce } from "../watchdog/watchdog.ts";
import { type Command, print, printJson } from "./command.ts";

const USAGE =
  "flotilla watchdog [--once] [--every 15m] [--wait-first] [--state-dir DIR] [--secrets-stdin] [-c FILE] [--json]";

const CHECK_GONE_MS = 30_000;

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

function summaryLine(run: RunSummary): string {
  const down = run.probes.filter((p) => p.state === "down").map((p) => `${p.target.id} (${p.detail})`);
  const took = ((run.finishedAt - run.startedAt) / 1000).toFixed(1);
  const what = down.length === 0 ? "all answering" : `first probe failed: ${down.join(", ")}`;
  const incidents = run.incidents.length > 0 ? `; incidents: ${run.incidents.join(", ")}` : "";
  return `${new Date(run.finishedAt).toISOString()} watchdog: ${run.probed} targets, ${what}${incidents} (${took}s)`;
}

/** Secret values handed over on stdin by `flotilla up` (never in this process's environment). */
/** What the CLI hands an embedded watchdog on stdin: the secrets' values and the proxy settings. */
function handoffFromStdin(): { secrets: Record<string, string>; proxy: Record<string, string> } {
  const parsed: unknown = JSON.parse(readFileSync(0, "utf8") || "{}");
  const strings = (value: unknown): Record<string, string> =>
    typeof value === "object" && value !== null
      ? (Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === "string")) as Record<
          string,
          string
        >)
      : {};
  const { secrets, proxy } = parsed as { secrets?: unknown; proxy?: unknown };
  return { secrets: strings(secrets), proxy: strings(proxy) };
}

/**
 * The watchdog's environment with the secrets and the proxy settings added, as `flotilla up` read them: a
 * fleet it starts again keeps both. Its own calls out take the proxy settings too.
 */
function withHandoff(handoff: ReturnType<typeof handoffFromStdin>): NodeJS.ProcessEnv {
  useProxySettings(handoff.proxy);
  return { ...process.env, ...handoff.secrets, ...handoff.proxy };
}

function intervalOf(input: string | undefined, loaded: LoadedConfig): number {
  if (input === undefined) return loaded.config.watchdog.every;
  const ms = parseDuration(input);
  if (ms === undefined || ms <= 0)
    throw new FlotillaError("FLOTILLA_E_USAGE", `--every ${input}: give a duration such as 15m or 30s`);
  return ms;
}

export const watchdogCommand: Command = {
  name: "watchdog",
  summary: "Probe the fleet and recover what is down, every watchdog.every (--once: one run, for a timer)",
  usage: USAGE,
  options: {
    once: { type: "boolean" },
    every: { type: "string" },
    "wait-first": { type: "boolean" },
    "state-dir": { type: "string" },
    "secrets-stdin": { type: "boolean" },
  },
  async run(input) {
    const file = findConfigFile(input.config);
    const stateDirOption =
      typeof input.values["state-dir"] === "string" ? input.values["state-dir"] : undefined;
    let current = loadRunConfig(file, undefined, stateDirOption);
    const stateDir = current.loaded.config.stateDir;
    const env = input.values["secrets-stdin"] === true ? withHandoff(handoffFromStdin()) : process.env;
    const lock = acquireWatchdogLock(stateDir);
    const state = openWatchdogState(stateDir);
    const log = (line: string) => (input.json ? process.stderr : process.stdout).write(`${line}\n`);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    try {
      if (input.values.once === true) {
        const run = await runOnce({ loaded: current.loaded, env, state, log });
        if (input.json) printJson(run);
        else print(summaryLine(run));
        return 0;
      }
      let wait =
        input.values["wait-first"] === true ? intervalOf(input.values.every as string, current.loaded) : 0;
      const gone = () => !existsSync(stateDir) || !existsSync(file);
      while (!stop.signal.aborted) {
        // Wakes at least every CHECK_GONE_MS: a fleet whose files are gone (its folder removed) has nothing left to watch.
        for (const due = Date.now() + wait; Date.now() < due && !stop.signal.aborted && !gone();)
          await pause(Math.min(CHECK_GONE_MS, due - Date.now()), stop.signal);
        if (stop.signal.aborted) break;
        if (gone()) {
          log(`watchdog: ${existsSync(stateDir) ? file : stateDir} is gone; stopping`);
          break;
        }
        current = loadRunConfig(file, current.loaded, stateDir);
        if (!current.live) log(`watchdog: ${current.problem ?? "the live config does not validate"}`);
        const run = await runOnce({ loaded: current.loaded, env, state, log });
        log(input.json ? JSON.stringify(run) : summaryLine(run));
        wait = intervalOf(input.values.every as string | undefined, current.loaded);
      }
      return 0;
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      state.close();
      lock.release();
    }
  },
};
