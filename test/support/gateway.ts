/** Test helpers for the gateway: run it in-process on 127.0.0.1:0 against simulators, with virtual keys at hand. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { validateConfigText } from "../../src/config/load.ts";
import { createGateway } from "../../src/gateway/gateway.ts";
import { ensureGatewaySecret, virtualKey } from "../../src/gateway/virtual-keys.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import type { Store } from "../../src/ledger/store.ts";

export interface RunningGateway {
  url: string;
  dir: string;
  store: Store;
  key(agent: string): string;
}

/** Starts a gateway for `yaml` (stateDir is set for you); everything is torn down after the test. */
export async function startGateway(t: TestContext, yaml: string): Promise<RunningGateway> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-gw-"));
  const stateDir = join(dir, "state");
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, `stateDir: ${JSON.stringify(stateDir)}\n${yaml}`);
  const result = validateConfigText(`stateDir: ${JSON.stringify(stateDir)}\n${yaml}`, file);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  ensureGatewaySecret(stateDir);
  const store = openSqliteStore(join(stateDir, "ledger.db"));
  const gateway = createGateway({ config: result.config, store });
  const server = gateway.server();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dir,
    store,
    key: (agent) => virtualKey(stateDir, agent),
  };
}
