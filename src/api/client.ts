/** The CLI's side of the control API: finds the daemon from stateDir, sends the token, turns error bodies into FlotillaErrors. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ErrorCode, FlotillaError } from "../errors.ts";
import { type DaemonInfo, readDaemonInfo } from "./daemon-files.ts";

export interface ApiClient {
  info: DaemonInfo;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  /** Opens an SSE stream and calls onData with each parsed `data:` payload until aborted or closed. */
  stream(path: string, onData: (data: unknown) => void, signal?: AbortSignal): Promise<void>;
}

/**
 * A client for the daemon of this state dir; throws FLOTILLA_E_DAEMON_NOT_RUNNING when there is none.
 * `timeoutMs` bounds each call (the watchdog's: a hung daemon must not hang its caller); none by default.
 */
export function connectDaemon(stateDir: string, options: { timeoutMs?: number } = {}): ApiClient {
  const info = readDaemonInfo(stateDir);
  if (!info?.api) {
    throw new FlotillaError(
      "FLOTILLA_E_DAEMON_NOT_RUNNING",
      `no daemon is running for ${stateDir}; start the fleet with "flotilla up"`,
    );
  }
  const token = readFileSync(join(stateDir, "token"), "utf8").trim();
  const headers = { authorization: `Bearer ${token}` };

  async function call<T>(method: string, path: string, payload?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${info?.api}${path}`, {
        method,
        headers: payload === undefined ? headers : { ...headers, "content-type": "application/json" },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        ...(options.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.timeoutMs) }),
      });
    } catch (cause) {
      const late = (cause as Error).name === "TimeoutError" ? ` within ${options.timeoutMs}ms` : "";
      throw new FlotillaError(
        "FLOTILLA_E_DAEMON_UNREACHABLE",
        `the daemon (pid ${info?.pid}) did not answer at ${info?.api}${late}`,
        {
          cause,
        },
      );
    }
    const reply = (await res.json()) as T & { error?: { code: ErrorCode; message: string } };
    if (!res.ok) {
      throw new FlotillaError(
        reply.error?.code ?? "FLOTILLA_E_DAEMON_UNREACHABLE",
        reply.error?.message ?? `HTTP ${res.status}`,
        {
          status: res.status,
        },
      );
    }
    return reply;
  }

  return {
    info,
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body),
    async stream(path, onData, signal) {
      const res = await fetch(`${info.api}${path}`, { headers, ...(signal ? { signal } : {}) });
      if (!res.ok || !res.body)
        throw new FlotillaError("FLOTILLA_E_DAEMON_UNREACHABLE", `log stream failed: HTTP ${res.status}`);
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of res.body) {
          buffer += decoder.decode(chunk, { stream: true });
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (frame.startsWith("data: ")) onData(JSON.parse(frame.slice(6)));
            end = buffer.indexOf("\n\n");
          }
        }
      } catch (err) {
        if (!signal?.aborted) throw err;
      }
    },
  };
}
