/** `flotilla gateway`: runs the LLM gateway on its own (the daemon runs the same thing as a supervised child). */
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { ensureStateDir } from "../api/daemon-files.ts";
import { FlotillaError } from "../errors.ts";
import { listenBacklog } from "../gateway/agent-server.ts";
import { ensureGatewaySecret } from "../gateway/virtual-keys.ts";
import { openThreadedSqliteStore } from "../ledger/threaded-store.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";

/**
 * The `{ env, proxy }` document the daemon writes on the gateway's stdin: the providers' secret values, and
 * the proxy settings, which go into this process's environment (not into /proc/<pid>/environ, which keeps
 * the environment the process started with) before the upstream dispatchers read them.
 */
async function readSecretInput(): Promise<Record<string, string>> {
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  try {
    const parsed = JSON.parse(text) as { env?: Record<string, string>; proxy?: Record<string, string> };
    Object.assign(process.env, parsed.proxy ?? {});
    return parsed.env ?? {};
  } catch {
    throw new FlotillaError(
      "FLOTILLA_E_SECRET",
      "--secrets-stdin: stdin did not hold the secrets document the daemon writes; run the gateway without --secrets-stdin to read secrets from the environment",
    );
  }
}

export const gatewayCommand: Command = {
  name: "gateway",
  summary: "Run the LLM gateway in the foreground (for benchmarks; the daemon normally runs it)",
  usage: "flotilla gateway [-c FILE] [--listen HOST:PORT] [--secrets-stdin] [--json]",
  options: { listen: { type: "string" }, "secrets-stdin": { type: "boolean" } },
  async run(input) {
    const { config } = loadForCli(input);
    if (config.providers.length === 0) {
      throw new FlotillaError(
        "FLOTILLA_E_CONFIG_INVALID",
        "providers: the gateway needs at least one provider; add one under providers",
      );
    }
    ensureStateDir(config.stateDir);
    ensureGatewaySecret(config.stateDir);
    const store = openThreadedSqliteStore(join(config.stateDir, "ledger.db"));
    // Loaded here, not at the top: the gateway and its upstream client have no business in other commands.
    const { createGateway } = await import("../gateway/gateway.ts");
    // Under the daemon the provider secrets arrive on stdin, so no /proc/<pid>/environ of the fleet holds them.
    const secretEnv = input.values["secrets-stdin"] === true ? await readSecretInput() : undefined;
    const gateway = createGateway({ config, store, ...(secretEnv ? { secretEnv } : {}) });
    process.on("SIGHUP", () => gateway.reloadKeys());
    const server = gateway.server();
    const listen = typeof input.values.listen === "string" ? input.values.listen : config.gateway.listen;
    const index = listen.lastIndexOf(":");
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          new FlotillaError(
            "FLOTILLA_E_PREFLIGHT",
            `gateway.listen ${listen}: cannot listen (${err.code}); choose another address`,
          ),
        ),
      );
      const backlog = listenBacklog(config.gateway.maxConnections);
      server.listen(
        { host: listen.slice(0, index), port: Number(listen.slice(index + 1)), backlog },
        resolve,
      );
    });
    const url = `http://${listen.slice(0, index)}:${(server.address() as AddressInfo).port}`;
    store.append({ kind: "gateway.started", data: { url, pid: process.pid } });
    if (input.json) printJson({ url, pid: process.pid });
    else print(`flotilla gateway listening on ${url} (pid ${process.pid})`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
    await gateway.close();
    store.append({ kind: "gateway.stopped", data: { pid: process.pid } });
    store.close();
    return 0;
  },
};
