/**
 * The connection pool behind one provider: an undici dispatcher keeping connections alive, that goes through
 * HTTPS_PROXY / HTTP_PROXY unless NO_PROXY names the host (undici's EnvHttpProxyAgent), and offers HTTP/2
 * when the provider's `http2` switch is on. Certificates are checked against Node's CAs plus
 * NODE_EXTRA_CA_CERTS. Model calls and OAuth token refreshes of the provider share it.
 */
import { Agent, type Dispatcher, EnvHttpProxyAgent } from "undici";
import { proxySet } from "../net/outbound.ts";

// Upstream connection defaults (ms).
const IDLE_MS = 30_000; // an idle connection is kept this long when the provider does not say
const MAX_IDLE_MS = 60_000; // cap on the idle time a provider's Keep-Alive: timeout may ask for
const IDLE_MARGIN_MS = 1_000; // closed this much before the provider's own Keep-Alive timeout

export interface DispatcherSettings {
  /** Offer HTTP/2 through ALPN (the provider's `http2` switch). */
  http2: boolean;
}

/**
 * A keep-alive dispatcher for one provider. Its own timers are off: the provider's timeout covers each
 * attempt whole, and the proxy settings are read from the environment when it is made.
 */
export function createUpstreamDispatcher(
  settings: DispatcherSettings,
  env: NodeJS.ProcessEnv = process.env,
): Dispatcher {
  const options = {
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: IDLE_MS,
    keepAliveMaxTimeout: MAX_IDLE_MS,
    keepAliveTimeoutThreshold: IDLE_MARGIN_MS,
    allowH2: settings.http2,
  };
  // With no proxy set, EnvHttpProxyAgent would send everything to this same Agent, after parsing each
  // request's origin and reading NO_PROXY from the environment (a few µs a request).
  return proxySet(env) ? new EnvHttpProxyAgent(options) : new Agent(options);
}
