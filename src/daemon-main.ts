/**
 * The daemon process (started through bin/flotilla-daemon.js). `flotilla up` validates the config, then
 * hands it over on stdin, so the daemon never loads the YAML parser or the schema library (it stays small).
 */
import type { Settlement } from "./migrations/apply-journal.ts";
import type { LoadedConfig } from "./config/load.ts";
import { startDaemon } from "./daemon.ts";
import { isFlotillaError } from "./errors.ts";
import type { FleetWiring } from "./fleet/fleet-wiring.ts";
import type { NewEvent } from "./ledger/store.ts";
import { useProxySettings } from "./net/outbound.ts";

interface Handoff {
  loaded: LoadedConfig;
  wiring: FleetWiring;
  text: string;
  recovered?: Settlement;
  /** Print nothing on stdout (the CLI was given --json). */
  quiet: boolean;
}

function eventLine(event: NewEvent): string {
  const time = new Date().toISOString().slice(11, 19);
  const data = event.data ? ` ${JSON.stringify(event.data)}` : "";
  return `${time} ${(event.agent ?? "daemon").padEnd(12)} ${event.kind}${data}\n`;
}

async function readStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

/** Runs the daemon process: reads the hand-off from stdin, starts, and exits when the daemon has stopped. */
export async function runDaemonProcess(): Promise<void> {
  const handoff = JSON.parse(await readStdin()) as Handoff;
  // Alerts and CI polls leave through the proxy the fleet was started with (net/outbound.ts).
  useProxySettings(handoff.wiring.proxy ?? {});
  try {
    const daemon = await startDaemon({
      loaded: handoff.loaded,
      wiring: handoff.wiring,
      text: handoff.text,
      ...(handoff.recovered ? { recovered: handoff.recovered } : {}),
      ...(handoff.quiet ? {} : { onEvent: (e: NewEvent) => process.stdout.write(eventLine(e)) }),
    });
    const stop = () => void daemon.stop();
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    process.on("SIGHUP", stop);
    await daemon.stopped;
    process.exit(0);
  } catch (err) {
    if (!isFlotillaError(err)) throw err;
    process.stderr.write(`flotilla up: ${err.message}\n`);
    process.exit(1);
  }
}
