/** The composition root: the only place that builds and wires the ledger, the supervisor and the control API. */
import { join } from "node:path";
import {
  claimStateDir,
  ensureStateDir,
  readDaemonInfo,
  readToken,
  removeDaemonInfo,
  writeDaemonInfo,
} from "./api/daemon-files.ts";
import { createApiServer } from "./api/server.ts";
import { existsSync, readFileSync } from "node:fs";
import type { Settlement } from "./migrations/apply-journal.ts";
import { createDriftWatch } from "./migrations/drift.ts";
import { createLastKnownGoodTracker } from "./migrations/last-known-good.ts";
import type { LoadedConfig } from "./config/load.ts";
import { adoptManagedFile } from "./config/managed-files.ts";
import { createMigrator, type RunningConfig } from "./migrations/migrator.ts";
import type { AgentConfig, FlotillaConfig } from "./config/schema.ts";
import { type Constitution, createConstitution } from "./constitution/service.ts";
import { FlotillaError } from "./errors.ts";
import { agentKeyEnv, type FleetWiring, GATEWAY_AGENT, gatewayInput } from "./fleet/fleet-wiring.ts";
import { createKeyRotation } from "./fleet/key-rotation.ts";
import { ensureGatewaySecret, virtualKey } from "./gateway/virtual-keys.ts";
import { openSqliteStore } from "./ledger/sqlite-store.ts";
import type { NewEvent, Store } from "./ledger/store.ts";
import { createSupervisor } from "./supervisor/supervisor.ts";
import { createChecks } from "./oversight/checks/index.ts";
import type { FindingState } from "./oversight/finding.ts";
import { createNotifier } from "./oversight/notifier.ts";
import { createOversight } from "./oversight/runner.ts";
import { createStallWatch } from "./oversight/stall-watch.ts";

export interface DaemonOptions {
  loaded: LoadedConfig;
  /** Sees every event as it is recorded (the foreground `up` prints them). */
  onEvent?: (event: NewEvent) => void;
  /** Flotilla's own processes to supervise (the gateway) and env to inject into agents, from the CLI. */
  wiring?: FleetWiring;
  /** The config file's text as validated (read from the file when not given). */
  text?: string;
  /** What `up` did with the journal of an apply a dead daemon left unfinished. */
  recovered?: Settlement;
}

/** Takes the config file and the constitution under drift watch, as they are now. */
function adoptFiles(running: RunningConfig): void {
  const { config, file } = running.loaded;
  adoptManagedFile(config.stateDir, file, running.text);
  const articles = config.constitution.articles;
  if (existsSync(articles)) adoptManagedFile(config.stateDir, articles, readFileSync(articles, "utf8"));
}

/** A store that also tells a listener about each event. */
function teeStore(store: Store, onEvent: ((event: NewEvent) => void) | undefined): Store {
  if (!onEvent) return store;
  return {
    append(event) {
      store.append(event);
      onEvent(event);
    },
    flush: () => store.flush(),
    query: (q) => store.query(q),
    close: () => store.close(),
  };
}

/** Each agent's current virtual key (a rotation replaces one), for the agent routes of the API. */
function agentKeys(config: FlotillaConfig): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const agent of config.agents) keys[agent.name] = virtualKey(config.stateDir, agent.name);
  return keys;
}

/**
 * The hook run before every start of an agent of the config (not Flotilla's own processes, such as the
 * gateway): writes its brief from the spec being started, and gives it its current virtual key (a rotation
 * changes it) and the API's URL. A brief that cannot be written is recorded and the agent starts anyway
 * (an unwritable workspace fails the agent on its own).
 */
function beforeStartHook(
  constitution: Constitution,
  store: Store,
  running: () => RunningConfig,
  api: () => string,
) {
  return function prepareAgentStart(agent: AgentConfig): Record<string, string> | void {
    const { loaded, wiring } = running();
    if (wiring.internal.some((a) => a.name === agent.name)) return;
    const config = loaded.config;
    const keyEnv = agentKeyEnv(config, agent, virtualKey(config.stateDir, agent.name));
    const url = api();
    try {
      const written = constitution.writeBrief(agent, url || undefined);
      store.append({ kind: "brief.written", agent: agent.name, data: written });
    } catch (err) {
      store.append({ kind: "brief.failed", agent: agent.name, data: { error: (err as Error).message } });
    }
    return url ? { ...keyEnv, FLOTILLA_API_URL: url } : keyEnv;
  };
}

/** Starts the daemon: claim the state dir, open the ledger, prepare the fleet, listen, start agents. */
export async function startDaemon(options: DaemonOptions) {
  const { config, file } = options.loaded;
  ensureStateDir(config.stateDir);
  claimStateDir(config.stateDir, file);
  ensureGatewaySecret(config.stateDir);
  const closers: Array<{ name: string; close: () => Promise<void> | void }> = [];
  const closeAll = async (): Promise<string[]> => {
    const order: string[] = [];
    for (const closer of closers.reverse()) {
      order.push(closer.name);
      await closer.close();
    }
    closers.length = 0;
    return order;
  };
  closers.push({ name: "daemon-files", close: () => removeDaemonInfo(config.stateDir) });
  try {
    const store = teeStore(openSqliteStore(join(config.stateDir, "ledger.db")), options.onEvent);
    closers.push({ name: "ledger", close: () => store.close() });
    const initial: RunningConfig = {
      loaded: options.loaded,
      wiring: options.wiring ?? { internal: [], agentEnv: {} },
      text: options.text ?? (existsSync(file) ? readFileSync(file, "utf8") : ""),
    };
    // The running config: the migrator's once it exists, since an apply replaces it.
    let current = (): RunningConfig => initial;
    const constitution = createConstitution({ config: () => current().loaded.config, store });
    let apiUrl = "";
    const supervisor = createSupervisor({
      config,
      store,
      beforeStart: beforeStartHook(
        constitution,
        store,
        () => current(),
        () => apiUrl,
      ),
      configFile: file,
      // The supervisor's config and secrets: during an apply (a key added), the gateway starts on the new ones.
      stdinFor: (name, applied, secrets) =>
        name === GATEWAY_AGENT ? gatewayInput(applied, { ...current().wiring, secrets }) : undefined,
      ...(options.wiring
        ? {
            internal: options.wiring.internal,
            injectedEnv: options.wiring.agentEnv,
            secretEnv: options.wiring.secrets ?? {},
          }
        : {}),
    });
    if (options.recovered) store.append({ kind: "config.recovered", data: { ...options.recovered } });
    const orphans = await supervisor.prepare();
    closers.push({ name: "supervisor", close: () => supervisor.close() });
    adoptFiles(initial);
    const drift = createDriftWatch({ stateDir: config.stateDir, store, every: config.drift.every });
    const lastKnownGood = createLastKnownGoodTracker({
      store,
      status: () => supervisor.status(),
      running: initial,
    });
    const migrator = createMigrator({
      supervisor,
      store,
      running: initial,
      onCommitted: (next) => {
        drift.setInterval(next.loaded.config.drift.every);
        lastKnownGood.reset(next);
        oversight.reschedule();
      },
    });
    current = () => migrator.running();
    closers.push({
      name: "migrations",
      close: async () => {
        await migrator.close();
        lastKnownGood.close();
        drift.close();
      },
    });
    // Alerts and injection of what oversight finds; it starts delivering what an earlier daemon left queued.
    let findingState: (id: string) => FindingState | undefined = () => undefined;
    const notifier = createNotifier({
      config: () => current().loaded.config,
      stateDir: config.stateDir,
      ledger: store,
      secrets: initial.wiring.secrets ?? {},
      findingState: (id) => findingState(id),
    });
    closers.push({ name: "alerts", close: () => notifier.close() });
    // Oversight reads the ledger and the supervisor's status; it acts on nothing.
    const oversight = createOversight({
      config: () => current().loaded.config,
      ledger: store,
      status: () => supervisor.status(),
      stateDir: config.stateDir,
      checks: createChecks({ stateDir: config.stateDir, secrets: initial.wiring.secrets ?? {} }),
      acceptPenalty: (agent, draft) => constitution.addPenalty({ agent, ...draft }).id,
      notify: (open, run) => notifier.notify(open, { id: run.run.id }),
    });
    findingState = (id) => oversight.store.get(id)?.state;
    let stallChecks = 0;
    const stallWatch = createStallWatch({
      store: oversight.store,
      every: () => current().loaded.config.oversight.every,
      enabled: () => current().loaded.config.oversight.enabled,
      // Each stall check counts as a run of its own for the injector's re-send and escalation counts.
      notify: (open) => notifier.notify(open, { id: -++stallChecks }),
      since: Date.now(),
    });
    closers.push({
      name: "oversight",
      close: async () => {
        stallWatch.close();
        await oversight.close();
      },
    });
    let stopping: Promise<string[]> | undefined;
    let onStopped: (order: string[]) => void = () => {};
    const stopped = new Promise<string[]>((resolve) => {
      onStopped = resolve;
    });
    const stop = (): Promise<string[]> => {
      stopping ??= (async () => {
        store.append({ kind: "daemon.stopping" });
        const order = await closeAll();
        onStopped(order);
        return order;
      })();
      return stopping;
    };
    const api = createApiServer({
      supervisor,
      store,
      migrator,
      token: readToken(config.stateDir),
      shutdown: () => void stop(),
      constitution,
      agentKeys: () => agentKeys(current().loaded.config),
      keys: createKeyRotation({ config: () => current().loaded.config, supervisor, store }),
      oversight: { oversight, config: () => current().loaded.config, constitution },
      gate: {
        config: () => current().loaded.config,
        store,
        ci: () => ({ stateDir: config.stateDir, secrets: current().wiring.secrets ?? {} }),
      },
    });
    let url: string;
    try {
      url = await api.start(config.api.listen);
    } catch (cause) {
      throw new FlotillaError(
        "FLOTILLA_E_PREFLIGHT",
        `api.listen ${config.api.listen}: cannot listen (${(cause as NodeJS.ErrnoException).code}); choose another address, or port 0`,
        { cause },
      );
    }
    closers.push({ name: "api", close: () => api.close() });
    apiUrl = url;
    const info = readDaemonInfo(config.stateDir);
    if (info) writeDaemonInfo(config.stateDir, { ...info, api: url });
    store.append({
      kind: "daemon.started",
      data: { pid: process.pid, api: url, agents: config.agents.length },
    });
    supervisor.startAll();
    drift.start();
    lastKnownGood.reset();
    oversight.start();
    stallWatch.start();
    return { url, supervisor, store, orphans, migrator, drift, oversight, stop, stopped };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

export type Daemon = Awaited<ReturnType<typeof startDaemon>>;
