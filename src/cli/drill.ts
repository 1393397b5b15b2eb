/**
 * `flotilla drill NAME`: injects a known failure into the running fleet and measures the watchdog's answer
 * (time to detect, time to recover, actions, model calls, escalations); one verdict line, or --json.
 * Ctrl-C and the timeout clean up what the drill did.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { connectDaemon } from "../api/client.ts";
import { formatDuration, parseDuration } from "../config/units.ts";
import { FlotillaError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import { DRILL_NAMES, type DrillName } from "../watchdog/drills/drill.ts";
import { DRILLS } from "../watchdog/drills/index.ts";
import { runDrill, verdictLine } from "../watchdog/drills/run-drill.ts";
import { openWatchdogState } from "../watchdog/state-store.ts";
import { type Command, type CommandInput, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";

const USAGE = `flotilla drill ${DRILL_NAMES.join("|")} [--agent NAME] [--provider ID] [--timeout 5m] [--delay 4m] [-c FILE] [--json]`;
const DEFAULT_TIMEOUT_MS = 5 * 60_000; // how long a drill waits for the recovery
const DEFAULT_DELAY_MS = 4 * 60_000; // slow-start: how long the agent stays stopped

function durationOption(input: CommandInput, name: string, fallback: number): number {
  const value = input.values[name];
  if (typeof value !== "string") return fallback;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new FlotillaError(
      "FLOTILLA_E_USAGE",
      `--${name} must be a duration such as 30s or 5m, not "${value}"; usage: ${USAGE}`,
    );
  return ms;
}

function drillName(input: CommandInput): DrillName {
  const [name, ...extra] = input.positionals;
  if (!name || extra.length > 0)
    throw new FlotillaError(
      "FLOTILLA_E_USAGE",
      `name one drill (${DRILL_NAMES.join(", ")}); usage: ${USAGE}`,
    );
  if (!(DRILL_NAMES as readonly string[]).includes(name))
    throw new FlotillaError(
      "FLOTILLA_E_USAGE",
      `no drill "${name}"${didYouMean(name, [...DRILL_NAMES])}; the drills are ${DRILL_NAMES.join(", ")}`,
    );
  return name as DrillName;
}

export const drillCommand: Command = {
  name: "drill",
  summary: "Inject a known failure into the running fleet and measure how the watchdog detects and heals it",
  usage: USAGE,
  options: {
    agent: { type: "string" },
    provider: { type: "string" },
    timeout: { type: "string" },
    delay: { type: "string" },
  },
  async run(input) {
    const name = drillName(input);
    const delayMs = durationOption(input, "delay", DEFAULT_DELAY_MS);
    // slow-start waits out the delay first: its default timeout starts after it.
    const timeoutMs = durationOption(
      input,
      "timeout",
      name === "slow-start" ? delayMs + DEFAULT_TIMEOUT_MS : DEFAULT_TIMEOUT_MS,
    );
    if (name === "slow-start" && timeoutMs <= delayMs)
      throw new FlotillaError(
        "FLOTILLA_E_USAGE",
        `--timeout (${formatDuration(timeoutMs)}) must be longer than --delay (${formatDuration(delayMs)}) for slow-start`,
      );
    const { config, file } = loadForCli(input);
    const agent = typeof input.values.agent === "string" ? input.values.agent : undefined;
    const provider = typeof input.values.provider === "string" ? input.values.provider : undefined;
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    // No file: no watchdog ever ran here (the drill refuses, naming how to start one).
    const openReader = () =>
      existsSync(join(config.stateDir, "watchdog.db")) ? openWatchdogState(config.stateDir) : undefined;
    try {
      const result = await runDrill(
        DRILLS[name],
        {
          config,
          configFile: file,
          options: {
            timeoutMs,
            delayMs,
            ...(agent === undefined ? {} : { agent }),
            ...(provider === undefined ? {} : { provider }),
          },
          api: () => connectDaemon(config.stateDir),
          note: (line) => process.stderr.write(`drill ${name}: ${line}\n`),
        },
        { openReader, signal: abort.signal },
      );
      if (input.json) printJson(result);
      else print(verdictLine(result));
      return result.pass ? 0 : 1;
    } finally {
      process.removeListener("SIGINT", stop);
      process.removeListener("SIGTERM", stop);
    }
  },
};
