/**
 * Hostile upstreams against a gateway in its own process: a gzip bomb, a 300 MB answer, 1xx/204/304 (with a
 * body), a close or a reset mid-body, bare-LF framing and garbage. Each is a prompt failover to the next
 * chain entry (or a 502 when there is none), never a hang, and /healthz is probed all along: no answer
 * is held up 50 ms or more by the gateway's own work (its main thread's CPU time tells a blocked event
 * loop from a busy machine), and none takes a second.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { createSimulator } from "../../src/sim/simulator.ts";
import { probeHealth, spawnGateway } from "../support/gateway-process.ts";

const KEY = "sk-abuse-test-key";
const ANSWER = JSON.stringify({
  id: "x",
  object: "chat.completion",
  created: 1,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
});

// 1 GiB of zeros in 1 MB: 64 gzip members of 16 MiB each (a gzip stream may hold many members).
const member = gzipSync(Buffer.alloc(16 << 20), { level: 9 });
const BOMB = Buffer.concat(Array.from({ length: 64 }, () => member));
const HUGE = 300 * 1024 * 1024;

/** Writes `total` bytes of `chunk` as the gateway takes them, until it drops the connection. */
async function writeAll(socket: Socket, chunk: Buffer, total: number): Promise<void> {
  for (let sent = 0; sent < total && !socket.destroyed; sent += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
    await new Promise((resolve) => socket.write(part, resolve)); // called once flushed, or on an error
  }
}

/** What each hostile upstream does once it has the request head. */
const CASES: Record<string, (socket: Socket) => unknown> = {
  "gzip-bomb": async (socket) => {
    socket.write(
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n" +
        `content-length: ${BOMB.length}\r\n\r\n`,
    );
    await writeAll(socket, BOMB, BOMB.length);
  },
  "300mb": async (socket) => {
    socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${HUGE}\r\n\r\n`);
    await writeAll(socket, Buffer.alloc(64 * 1024, 0x20), HUGE);
  },
  "304-with-body": (socket) => {
    socket.write(`HTTP/1.1 304 Not Modified\r\ncontent-length: ${ANSWER.length}\r\n\r\n${ANSWER}`);
  },
  "204": (socket) => socket.end("HTTP/1.1 204 No Content\r\n\r\n"),
  "1xx-then-close": (socket) => socket.end("HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n"),
  "close-mid-body": (socket) =>
    socket.end(`HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n${ANSWER.slice(0, 40)}`),
  "reset-mid-body": (socket) => {
    socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n${ANSWER.slice(0, 40)}`);
    setTimeout(() => socket.resetAndDestroy(), 20);
  },
  "bare-lf": (socket) =>
    socket.end(
      `HTTP/1.1 200 OK\ncontent-type: application/json\ncontent-length: ${ANSWER.length}\n\n${ANSWER}`,
    ),
  garbage: (socket) => socket.end(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x1b, 0x7f])),
  "gzip-garbage": (socket) =>
    socket.end(
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: 12\r\n\r\nnot gzipped!",
    ),
};

async function hostileUpstream() {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", (data: Buffer) => {
      const path = /^POST \/([^/]+)\//.exec(data.toString("latin1"))?.[1] ?? "";
      void CASES[path]?.(socket);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port };
}

test(
  "hostile upstreams: each case fails over promptly, nothing hangs, /healthz never stalls over 50 ms",
  { timeout: 60_000 },
  async (t) => {
    const sim = createSimulator({ keys: { [KEY]: {} }, latency: { firstTokenMs: 0, jitterMs: 0 } });
    const simUrl = await sim.start();
    t.after(() => sim.close());
    const hostile = await hostileUpstream();
    t.after(() => hostile.server.close());
    const names = Object.keys(CASES);
    const providers = names.map(
      (name) =>
        `  - { id: ${name.replace(/^(\d)/, "c$1")}, kind: openai, baseUrl: http://127.0.0.1:${hostile.port}/${name}/v1, keys: [{ env: ABUSE_KEY }], timeout: 5s }`,
    );
    const models = names.map(
      (name) =>
        `  ${name}: [{ provider: ${name.replace(/^(\d)/, "c$1")}, model: m }, { provider: sim, model: sim-small }]\n` +
        `  only-${name}: [{ provider: ${name.replace(/^(\d)/, "c$1")}, model: m }]`,
    );
    const config = `version: 1
providers:
${providers.join("\n")}
  - { id: sim, kind: openai, baseUrl: ${simUrl}/v1, keys: [{ env: ABUSE_KEY }] }
models:
${models.join("\n")}
agents:
  - { name: coder, command: x, workspace: /tmp }
`;
    const gw = await spawnGateway(t, config, { ABUSE_KEY: KEY });
    const figures: string[] = [];
    const startRss = gw.rssMb();
    let peakRss = 0;
    const probe = probeHealth(gw);
    for (const name of names) {
      for (const model of [name, `only-${name}`]) {
        const started = performance.now();
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${gw.key("coder")}`, "content-type": "application/json" },
          body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] }),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        const ms = performance.now() - started;
        peakRss = Math.max(peakRss, gw.rssMb());
        if (model === name) {
          assert.equal(res.status, 200, `${name}: failover expected, got ${text}`);
          assert.equal(res.headers.get("x-flotilla-provider"), "sim", name);
        } else {
          assert.equal(res.status, 502, `${name}: ${text}`);
          assert.match(text, /every provider in the chain failed/);
        }
        assert.ok(ms < 3_000, `${model} took ${ms.toFixed(0)} ms`);
        figures.push(`${model} ${res.status} in ${ms.toFixed(0)} ms`);
      }
    }
    const health = await probe.stop();
    assert.ok(gw.alive());
    t.diagnostic(figures.join("; "));
    t.diagnostic(
      `/healthz: ${health.answers} answers, slowest ${health.slowestMs.toFixed(1)} ms, slowest while the gateway's main thread was busy ${health.stalledMs.toFixed(1)} ms; gateway RSS peak ${peakRss.toFixed(0)} MB (${startRss.toFixed(0)} MB at start)`,
    );
    assert.ok(
      health.stalledMs < 50,
      `the gateway's event loop stalled for ${health.stalledMs.toFixed(1)} ms`,
    );
    assert.ok(health.slowestMs < 1_000, `a /healthz answer took ${health.slowestMs.toFixed(0)} ms`);
    assert.ok(peakRss < 256, `gateway RSS reached ${peakRss.toFixed(0)} MB`);
  },
);
