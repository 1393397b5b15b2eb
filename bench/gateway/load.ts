/**
 * Load for bench/gateway: wrk with a generated Lua script (POST body, headers, and a `done` hook that prints
 * the figures as one JSON line), and a small Node client that times the first SSE frame of streamed answers.
 */
import { execFile, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";

export interface Target {
  /** Base URL of the route, e.g. http://127.0.0.1:PORT */
  url: string;
  /** Path of the chat endpoint on that route. */
  path: string;
  headers: Record<string, string>;
}

export interface WrkResult {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Socket errors plus non-2xx answers: a route that errors is not measured, it is reported broken. */
  errors: number;
}

/** Exits with install advice when wrk is missing. */
export function checkWrk(): string {
  try {
    return execFileSync("wrk", ["--version"], { stdio: ["ignore", "pipe", "pipe"] })
      .toString()
      .split("\n")[0] as string;
  } catch (err) {
    // wrk --version exits 1 after printing its banner
    const out = String((err as { stdout?: Buffer }).stdout ?? "");
    if (out.startsWith("wrk")) return out.split("\n")[0] as string;
    process.stderr.write("bench:gateway needs wrk: apt-get install -y wrk\n");
    process.exit(2);
  }
}

function luaString(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** Writes the wrk script for one target and body. */
export function wrkScript(dir: string, name: string, target: Target, body: string): string {
  const file = join(dir, `${name.replace(/\W+/g, "-")}.lua`);
  const headers = Object.entries({ "content-type": "application/json", ...target.headers })
    .map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`)
    .join("\n");
  writeFileSync(
    file,
    `wrk.method = "POST"
wrk.path = ${luaString(target.path)}
wrk.body = ${luaString(body)}
${headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"durationUs":%d,"errors":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(99)))
end
`,
  );
  return file;
}

/** One wrk run: `connections` keep-alive connections on one thread for `seconds`. */
export function runWrk(
  url: string,
  script: string,
  connections: number,
  seconds: number,
): Promise<WrkResult> {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, url];
  return new Promise((resolve, reject) =>
    execFile("wrk", args, { timeout: (seconds + 30) * 1000 }, (err, stdout, stderr) => {
      const line = stdout.split("\n").find((l) => l.startsWith("BENCH "));
      if (err || !line) return reject(new Error(`wrk ${args.join(" ")}: ${stderr || stdout}`));
      const r = JSON.parse(line.slice(6)) as Record<string, number>;
      resolve({
        reqPerSec: Math.round(((r.requests as number) / (r.durationUs as number)) * 1e6),
        p50Ms: (r.p50Us as number) / 1000,
        p99Ms: (r.p99Us as number) / 1000,
        requests: r.requests as number,
        errors: r.errors as number,
      });
    }),
  );
}

/** Sends `count` streamed requests one after another; returns each time to the first `data:` frame (ms). */
export async function firstFrameTimes(target: Target, body: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const { hostname, port } = new URL(target.url);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      times.push(
        await new Promise<number>((resolve, reject) => {
          const started = performance.now();
          const req = request(
            {
              agent,
              hostname,
              port,
              path: target.path,
              method: "POST",
              headers: {
                "content-type": "application/json",
                "content-length": Buffer.byteLength(body),
                ...target.headers,
              },
            },
            (res) => {
              let seen = -1;
              let text = "";
              res.on("data", (chunk: Buffer) => {
                if (seen >= 0) return;
                text += chunk.toString();
                if (text.includes("data:")) seen = performance.now() - started;
              });
              res.on("end", () =>
                res.statusCode === 200 && seen >= 0
                  ? resolve(seen)
                  : reject(
                      new Error(`${target.url}: stream answered ${res.statusCode}: ${text.slice(0, 300)}`),
                    ),
              );
              res.on("error", reject);
            },
          );
          req.on("error", reject);
          req.end(body);
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  return times;
}
