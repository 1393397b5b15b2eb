/**
 * How the constitution commands reach the ledger. Writes go through the daemon's API while it runs, so
 * the ledger has one writer; with no daemon, the CLI opens the ledger file itself. Reads always open the
 * file (WAL lets them run beside the daemon, which flushes before it answers a write).
 */
import { join } from "node:path";
import { type ApiClient, connectDaemon } from "../api/client.ts";
import { readDaemonInfo } from "../api/daemon-files.ts";
import type { FlotillaConfig } from "../config/schema.ts";
import { type Constitution, createConstitution } from "../constitution/service.ts";
import { FlotillaError } from "../errors.ts";
import { openSqliteStore } from "../ledger/sqlite-store.ts";

/** Runs `use` over the ledger file, closing it afterwards. */
export function withConstitution<T>(config: FlotillaConfig, use: (constitution: Constitution) => T): T {
  const store = openSqliteStore(join(config.stateDir, "ledger.db"));
  try {
    return use(createConstitution({ config: () => config, store }));
  } finally {
    store.close();
  }
}

/**
 * Makes one change: through the daemon when it runs (`viaDaemon`), else on the ledger file (`direct`).
 * Either way the same checks run, and a rejected change writes nothing.
 */
export async function changeConstitution<T>(
  config: FlotillaConfig,
  viaDaemon: (client: ApiClient) => Promise<T>,
  direct: (constitution: Constitution) => T,
): Promise<T> {
  const info = readDaemonInfo(config.stateDir);
  if (!info) return withConstitution(config, direct);
  if (!info.api) {
    throw new FlotillaError(
      "FLOTILLA_E_DAEMON_UNREACHABLE",
      `the daemon (pid ${info.pid}) is still starting; try again in a moment`,
    );
  }
  return viaDaemon(connectDaemon(config.stateDir));
}
