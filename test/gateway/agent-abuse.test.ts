/**
 * Agents' side under abuse, against a gateway in its own process (its RSS read from /proc): a pipelining
 * client that never reads, 300 slowloris connections, long chunk extensions, a 1 GB body and 2,000 idle
 * connections. Memory stays bounded, the deadlines from config close what stalls, and another agent is
 * served meanwhile.
 */
import assert from "node:assert/strict";
import { readdirSync, readlinkSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { createSimulator } from "../../src/sim/simulator.ts";
import { type GatewayProcess, spawnGateway } from "../support/gateway-process.ts";

const KEY = "sk-agent-abuse-key";
const RSS_LIMIT_MB = 256;
const HEADERS_TIMEOUT_MS = 2_000;

async function setup(t: TestContext, limits = "") {
  const sim = createSimulator({ keys: { [KEY]: {} }, latency: { firstTokenMs: 0, jitterMs: 0 } });
  const simUrl = await sim.start();
  t.after(() => sim.close());
  return spawnGateway(
    t,
    `version: 1
gateway: { headersTimeout: ${HEADERS_TIMEOUT_MS}ms, requestTimeout: 4s, maxBodySize: 10M${limits} }
providers:
  - { id: sim, kind: openai, baseUrl: ${simUrl}/v1, keys: [{ env: ABUSE_KEY }] }
models:
  main: [{ provider: sim, model: sim-small }]
agents:
  - { name: coder, command: x, workspace: /tmp }
  - { name: other, command: x, workspace: /tmp }
`,
    { ABUSE_KEY: KEY },
  );
}

/** One chat call by the well-behaved agent `other`: its time in ms (it must succeed). */
async function otherAgentMs(gw: GatewayProcess): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${gw.key("other")}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "main", messages: [{ role: "user", content: "hello" }] }),
    signal: AbortSignal.timeout(5_000),
  });
  await res.text();
  assert.equal(res.status, 200);
  return performance.now() - started;
}

/** How many sockets the gateway process holds open (its descriptors that are sockets). */
function socketsOf(gw: GatewayProcess): number {
  const dir = `/proc/${gw.child.pid}/fd`;
  let count = 0;
  for (const fd of readdirSync(dir)) {
    try {
      if (readlinkSync(join(dir, fd)).startsWith("socket:")) count++;
    } catch {
      // closed while listed
    }
  }
  return count;
}

function open(gw: GatewayProcess): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(gw.port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Resolves when `check` holds, polling every 50 ms; fails after `ms`. */
async function until(check: () => boolean, ms: number, what: string | (() => string)): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms)
      assert.fail(`${typeof what === "string" ? what : what()}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return performance.now() - started;
}

test(
  "a client pipelining 64 MB of requests it never reads: gateway RSS < 256 MB, another agent answered < 1 s",
  { timeout: 60_000 },
  async (t) => {
    const gw = await setup(t);
    const socket = await open(gw);
    socket.on("error", () => {});
    socket.pause(); // never reads an answer
    const one = `GET /v1/models HTTP/1.1\r\nhost: gw\r\n\r\n`;
    const batch = Buffer.from(one.repeat(Math.floor((256 * 1024) / one.length)));
    let written = 0;
    let peakRss = 0;
    let slowestOther = 0;
    // Write until 64 MB went out or the gateway has stopped reading for a second.
    while (written < 64 * 1024 * 1024) {
      const room = socket.write(batch);
      written += batch.length;
      if (!room) {
        const drained = await Promise.race([
          new Promise<boolean>((resolve) => socket.once("drain", () => resolve(true))),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1_000)),
        ]);
        peakRss = Math.max(peakRss, gw.rssMb());
        slowestOther = Math.max(slowestOther, await otherAgentMs(gw));
        if (!drained) break;
      }
    }
    peakRss = Math.max(peakRss, gw.rssMb());
    slowestOther = Math.max(slowestOther, await otherAgentMs(gw));
    socket.destroy();
    t.diagnostic(
      `pipelined ${(written / 1048576).toFixed(1)} MB unread; gateway RSS peak ${peakRss.toFixed(0)} MB; other agent slowest ${slowestOther.toFixed(0)} ms`,
    );
    assert.ok(peakRss < RSS_LIMIT_MB, `gateway RSS ${peakRss.toFixed(0)} MB`);
    assert.ok(slowestOther < 1_000, `another agent waited ${slowestOther.toFixed(0)} ms`);
    assert.ok(written < 64 * 1024 * 1024, "the gateway stopped reading the pipelining client");
  },
);

test(
  "300 slowloris connections are closed by the headersTimeout deadline (2 s); another agent is served meanwhile",
  { timeout: 60_000 },
  async (t) => {
    const gw = await setup(t);
    const sockets = await Promise.all(Array.from({ length: 300 }, () => open(gw)));
    let closed = 0;
    for (const socket of sockets) {
      socket.on("error", () => {});
      socket.on("close", () => closed++);
      socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\n`);
    }
    const started = performance.now();
    const drip = setInterval(() => {
      for (const socket of sockets) if (!socket.destroyed) socket.write("x");
    }, 200);
    t.after(() => clearInterval(drip));
    const slowestOther = Math.max(await otherAgentMs(gw), await otherAgentMs(gw));
    const ms = await until(() => closed === 300, HEADERS_TIMEOUT_MS + 3_000, "all 300 closed");
    clearInterval(drip);
    const allClosedMs = performance.now() - started;
    t.diagnostic(
      `300 slowloris connections closed ${allClosedMs.toFixed(0)} ms after they began (deadline ${HEADERS_TIMEOUT_MS} ms); other agent slowest ${slowestOther.toFixed(0)} ms`,
    );
    assert.ok(ms >= 0 && allClosedMs >= HEADERS_TIMEOUT_MS - 200, "not before the deadline");
    assert.ok(slowestOther < 1_000);
    assert.ok(gw.alive());
  },
);

test(
  "chunk extensions of 1 MB each: refused (413/400 or close) after a bounded read; gateway RSS < 256 MB",
  { timeout: 60_000 },
  async (t) => {
    const gw = await setup(t);
    const socket = await open(gw);
    let answer = "";
    socket.on("data", (data: Buffer) => (answer += data.toString("latin1")));
    socket.on("error", () => {});
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${gw.key("coder")}\r\n` +
        "transfer-encoding: chunked\r\n\r\n",
    );
    const chunk = Buffer.from(`1;ext=${"a".repeat(1024 * 1024)}\r\nx\r\n`);
    let written = 0;
    while (!socket.destroyed && written < 100 * 1024 * 1024) {
      written += chunk.length;
      if (!socket.write(chunk)) await new Promise((resolve) => setTimeout(resolve, 5));
      if (answer) break;
    }
    await until(() => socket.destroyed || answer.length > 0, 5_000, "refused");
    const rss = gw.rssMb();
    socket.destroy();
    t.diagnostic(
      `sent ${(written / 1048576).toFixed(0)} MB of chunk extensions; answer: ${answer.split("\r\n")[0] || "(closed)"}; gateway RSS ${rss.toFixed(0)} MB`,
    );
    assert.match(answer || "HTTP/1.1 413 (closed)", /^HTTP\/1\.1 (413|400) /);
    assert.ok(rss < RSS_LIMIT_MB);
    assert.ok(written < 20 * 1024 * 1024, "refused early");
    assert.ok((await otherAgentMs(gw)) < 1_000);
  },
);

test(
  "a 1 GB body, chunked or declared: 413 as it passes the 10 MB cap, then the connection closes; gateway RSS < 256 MB",
  { timeout: 60_000 },
  async (t) => {
    const gw = await setup(t);
    const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${gw.key("coder")}\r\n`;
    const megabyte = Buffer.alloc(1024 * 1024, 0x61);
    const chunk = Buffer.concat([Buffer.from("100000\r\n"), megabyte, Buffer.from("\r\n")]);
    for (const framing of ["transfer-encoding: chunked", `content-length: ${1024 ** 3}`]) {
      const socket = await open(gw);
      let answer = "";
      socket.on("data", (data: Buffer) => (answer += data.toString("latin1")));
      socket.on("error", () => {});
      socket.write(`${head}${framing}\r\n\r\n`);
      const body = framing.startsWith("transfer") ? chunk : megabyte;
      let written = 0;
      while (!socket.destroyed && written < 1024 ** 3) {
        written += body.length;
        if (!socket.write(body))
          await new Promise((resolve) => {
            socket.once("drain", resolve);
            socket.once("close", resolve);
          });
      }
      const rss = gw.rssMb();
      t.diagnostic(
        `${framing}: gave up after ${(written / 1048576).toFixed(0)} MB; answer: ${answer.split("\r\n")[0]}; gateway RSS ${rss.toFixed(0)} MB`,
      );
      assert.match(answer, /^HTTP\/1\.1 413 /);
      assert.match(answer, /maxBodySize/);
      assert.ok(written < 64 * 1024 * 1024, "the connection closed long before 1 GB");
      assert.ok(rss < RSS_LIMIT_MB);
    }
    assert.ok((await otherAgentMs(gw)) < 1_000);
  },
);

test(
  "2,000 idle connections: past the cap (1,000) closed at once, the rest by the 2 s deadline; bounded RSS, no crash",
  { timeout: 60_000 },
  async (t) => {
    const gw = await setup(t, ", maxConnections: 1000");
    const before = gw.rssMb();
    // Connections are opened 100 at a time, each wave once the last has connected; past the cap, once the
    // gateway holds the first 1,000 (its socket descriptors, from /proc) and the last wave was closed:
    // 2,000 handshakes at once would overflow the kernel's accept queue, and the SYN-ACK retries (1 s, 3 s,
    // 7 s) would time the test, not the gateway.
    const sockets: Socket[] = [];
    const lifetimes: number[] = [];
    t.after(() => {
      for (const socket of sockets) socket.destroy();
    });
    for (let wave = 0; wave < 20; wave++) {
      const connected: Promise<void>[] = [];
      const closed: Promise<void>[] = [];
      for (let i = 0; i < 100; i++) {
        const socket = connect(gw.port, "127.0.0.1");
        sockets.push(socket);
        socket.on("error", () => {});
        closed.push(new Promise((resolve) => socket.once("close", () => resolve())));
        connected.push(
          new Promise((resolve) =>
            socket.once("connect", () => {
              const at = performance.now();
              socket.once("close", () => lifetimes.push(performance.now() - at));
              resolve();
            }),
          ),
        );
      }
      await Promise.all(wave < 10 ? connected : [...connected, ...closed]);
      if (wave === 9)
        await until(() => socketsOf(gw) >= 1_000, 5_000, "the gateway took in 1,000 connections");
    }
    await until(() => lifetimes.length >= 1_000, 2_000, "the 1,000 past the cap closed");
    const rss = gw.rssMb();
    await until(
      () => lifetimes.length === 2_000,
      HEADERS_TIMEOUT_MS + 3_000,
      () => `all closed (${2_000 - lifetimes.length} still open)`,
    );
    const atOnce = lifetimes.filter((ms) => ms < 1_000).length;
    const longest = Math.max(...lifetimes);
    t.diagnostic(
      `2,000 idle: ${atOnce} closed within 1 s of connecting, the longest open ${longest.toFixed(0)} ms; gateway RSS ${before.toFixed(0)} → ${rss.toFixed(0)} MB`,
    );
    assert.ok(atOnce >= 1_000, `past the cap closed at once (${atOnce})`);
    assert.ok(longest >= HEADERS_TIMEOUT_MS - 100, "idle connections under the cap wait for the deadline");
    assert.ok(
      longest < HEADERS_TIMEOUT_MS + 1_500,
      `no idle connection outlives the deadline (${longest} ms)`,
    );
    assert.ok(rss < RSS_LIMIT_MB);
    assert.ok(gw.alive());
    assert.ok((await otherAgentMs(gw)) < 1_000, "served once the idle ones are gone");
  },
);
