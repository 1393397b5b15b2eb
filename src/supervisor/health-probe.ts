/** One health probe of an agent: HTTP GET on its port, a TCP connect, or just "the process is alive". */
import { connect } from "node:net";
import type { AgentConfig } from "../config/schema.ts";

// An ESM import of node:http builds its whole namespace, which loads undici for the WebSocket
// exports and costs the daemon about 13 MB of RSS; getBuiltinModule returns the plain exports.
const { request } = process.getBuiltinModule("node:http");

export interface ProbeResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** Runs the agent's configured probe against 127.0.0.1; never throws. */
export function probeHealth(agent: AgentConfig, timeoutMs = agent.health.timeout): Promise<ProbeResult> {
  const started = performance.now();
  const done = (ok: boolean, error?: string): ProbeResult => ({
    ok,
    latencyMs: Math.round((performance.now() - started) * 100) / 100,
    ...(error ? { error } : {}),
  });
  const health = agent.health;
  const port = agent.port;
  if ("process" in health || port === undefined) return Promise.resolve(done(true));
  if ("tcp" in health) {
    return new Promise((resolve) => {
      const socket = connect({ host: "127.0.0.1", port, timeout: timeoutMs });
      socket.once("connect", () => {
        socket.destroy();
        resolve(done(true));
      });
      socket.once("timeout", () => {
        socket.destroy();
        resolve(done(false, `no TCP connect within ${timeoutMs}ms`));
      });
      socket.once("error", (err) => resolve(done(false, err.message)));
    });
  }
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, path: health.http, method: "GET", timeout: timeoutMs },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        res.once("end", () =>
          resolve(done(status >= 200 && status < 400, status >= 400 ? `HTTP ${status}` : undefined)),
        );
        res.once("error", (err) => resolve(done(false, err.message)));
      },
    );
    req.once("timeout", () => {
      req.destroy();
      resolve(done(false, `no answer within ${timeoutMs}ms`));
    });
    req.once("error", (err) => resolve(done(false, err.message)));
    req.end();
  });
}
