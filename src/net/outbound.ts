/**
 * The way out for Flotilla's own calls to the outside world (alert receivers, GitHub's API, the watchdog's
 * diagnosis model): through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY names the host, as the gateway's model
 * calls go (undici's EnvHttpProxyAgent). With no proxy set, the platform's default, and undici is not
 * loaded for it. Calls to the fleet's own processes (an agent's session, the daemon) never take this path.
 */
import type { Dispatcher } from "undici";

let shared: Dispatcher | undefined;
let handed: NodeJS.ProcessEnv | undefined;

/** Whether the environment names a proxy (either case, as curl and undici read them). */
export function proxySet(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.https_proxy || env.HTTPS_PROXY || env.http_proxy || env.HTTP_PROXY);
}

/**
 * The proxy settings to use instead of this process's environment: the daemon and the embedded watchdog get
 * them from the CLI on stdin (their environment holds none, as a proxy URL may carry credentials).
 * Undefined goes back to the environment.
 */
export function useProxySettings(settings: Record<string, string> | undefined): void {
  handed = settings;
  shared = undefined;
}

/** The proxy-aware dispatcher when a proxy is set (one per process), else undefined. */
export async function outboundDispatcher(): Promise<Dispatcher | undefined> {
  const env = handed ?? process.env;
  if (!proxySet(env)) return undefined;
  const { EnvHttpProxyAgent } = await import("undici");
  const noProxy = env.no_proxy ?? env.NO_PROXY;
  return (shared ??= new EnvHttpProxyAgent({
    httpProxy: env.http_proxy ?? env.HTTP_PROXY,
    httpsProxy: env.https_proxy ?? env.HTTPS_PROXY,
    ...(noProxy === undefined ? {} : { noProxy }),
  }));
}

/** `fetch` for a call to the outside world: through the proxy when one is set. */
export async function outboundFetch(url: string, init: RequestInit): Promise<Response> {
  const dispatcher = await outboundDispatcher();
  if (!dispatcher) return fetch(url, init);
  const undici = await import("undici");
  // undici's own fetch with its own dispatcher; its Response has the same shape as the global one.
  const response = await undici.fetch(url, { ...(init as object), dispatcher });
  return response as unknown as Response;
}
