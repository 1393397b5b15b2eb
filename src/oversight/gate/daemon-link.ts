/**
 * How the gate reaches the daemon: as the agent whose environment it runs in (FLOTILLA_API_URL and its
 * own key, FLOTILLA_AGENT_KEY), or else as the operator (the state dir's token). Every call has a
 * timeout; a daemon that cannot be reached is an error, and the gate refuses on it (fail closed).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readDaemonInfo } from "../../api/daemon-files.ts";
import { FlotillaError } from "../../errors.ts";

/** How long one call to the daemon may take (milliseconds). */
export const LINK_TIMEOUT_MS = 10_000;

export interface DaemonLink {
  /** Which credential the calls carry: the agent's own key or the operator's token. */
  as: "agent" | "operator";
  post<T>(path: string, body: unknown): Promise<T>;
}

function link(as: DaemonLink["as"], api: string, bearer: string): DaemonLink {
  return {
    as,
    async post<T>(path: string, body: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${api}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(LINK_TIMEOUT_MS),
        });
      } catch (cause) {
        throw new FlotillaError("FLOTILLA_E_DAEMON_UNREACHABLE", `the daemon did not answer at ${api}`, {
          cause,
        });
      }
      const reply = (await res.json().catch(() => ({}))) as T & { error?: { message?: string } };
      if (!res.ok)
        throw new FlotillaError(
          "FLOTILLA_E_DAEMON_UNREACHABLE",
          `the daemon refused ${path}: ${reply.error?.message ?? `HTTP ${res.status}`}`,
        );
      return reply;
    },
  };
}

/** The link for this process: the agent's when its environment has one, else the operator's for `stateDir`. */
export function daemonLink(env: NodeJS.ProcessEnv, stateDir: (() => string) | undefined): DaemonLink {
  const api = env.FLOTILLA_API_URL;
  const key = env.FLOTILLA_AGENT_KEY;
  if (api && key) return link("agent", api, key);
  if (!stateDir)
    throw new FlotillaError(
      "FLOTILLA_E_DAEMON_NOT_RUNNING",
      "no daemon to ask: run this as an agent of the fleet, or name the fleet's config with -c",
    );
  const dir = stateDir();
  const info = readDaemonInfo(dir);
  if (!info?.api)
    throw new FlotillaError(
      "FLOTILLA_E_DAEMON_NOT_RUNNING",
      `no daemon is running for ${dir}; start the fleet with "flotilla up"`,
    );
  let token: string;
  try {
    token = readFileSync(join(dir, "token"), "utf8").trim();
  } catch {
    throw new FlotillaError(
      "FLOTILLA_E_UNAUTHORIZED",
      `cannot read ${join(dir, "token")}; run the gate as the operator`,
    );
  }
  return link("operator", info.api, token);
}
