/** A gateway in a process of its own, for tests that measure its memory or its event loop: `node gateway-child.ts CONFIG`. */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { validateConfigText } from "../../src/config/load.ts";
import { listenBacklog } from "../../src/gateway/agent-server.ts";
import { createGateway } from "../../src/gateway/gateway.ts";
import { ensureGatewaySecret } from "../../src/gateway/virtual-keys.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";

const file = process.argv[2] as string;
const result = validateConfigText(readFileSync(file, "utf8"), file);
if (!result.ok) throw new Error(JSON.stringify(result.problems));
const { config } = result;
ensureGatewaySecret(config.stateDir);
const store = openSqliteStore(join(config.stateDir, "ledger.db"));
const gateway = createGateway({ config, store });
const server = gateway.server();
const backlog = listenBacklog(config.gateway.maxConnections);
server.listen({ port: 0, host: "127.0.0.1", backlog }, () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.once("SIGTERM", () => {
  server.closeAllConnections();
  server.close();
  void gateway.close().then(() => store.close());
});
