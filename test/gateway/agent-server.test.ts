/**
 * What agents rely on from the gateway's node:http server, with the limits from config: keep-alive (and
 * its timeout), 100-continue, a body over the cap answered early with 413, strict parsing of framing
 * headers, the request deadline, and config that refuses a head deadline longer than the request's.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { type TestContext, test } from "node:test";
import { validateConfigText } from "../../src/config/load.ts";
import { createSimulator } from "../../src/sim/simulator.ts";
import { startGateway } from "../support/gateway.ts";

const KEY = "sk-agent-server-key";
const hello = JSON.stringify({ model: "main", messages: [{ role: "user", content: "hello" }] });

async function setup(t: TestContext, limits: string) {
  const sim = createSimulator({ keys: { [KEY]: {} }, latency: { firstTokenMs: 0, jitterMs: 0 } });
  const simUrl = await sim.start();
  t.after(() => sim.close());
  process.env.SERVER_TEST_KEY = KEY;
  return startGateway(
    t,
    `version: 1
gateway: { ${limits} }
providers:
  - { id: sim, kind: openai, baseUrl: ${simUrl}/v1, keys: [{ env: SERVER_TEST_KEY }] }
models:
  main: [{ provider: sim, model: sim-small }]
agents:
  - { name: coder, command: x, workspace: /tmp }
`,
  );
}

/** Sends raw bytes on a new connection; resolves with all it got back once the gateway closes or `until` matches. */
async function raw(url: string, bytes: string, until?: RegExp): Promise<string> {
  const socket = connect(Number(new URL(url).port), "127.0.0.1");
  let answer = "";
  socket.on("error", () => {});
  socket.write(bytes, "latin1");
  await new Promise<void>((resolve) => {
    socket.on("data", (data: Buffer) => {
      answer += data.toString("latin1");
      if (until?.test(answer)) resolve();
    });
    socket.on("close", () => resolve());
  });
  socket.destroy();
  return answer;
}

test(
  "keep-alive: 20 calls share one connection, which outlives the head deadline while in use and closes after keepAliveTimeout (2.5 s)",
  { timeout: 60_000 },
  async (t) => {
    const gw = await setup(t, "headersTimeout: 300ms, requestTimeout: 1s, keepAliveTimeout: 2500ms");
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const sockets = new Set<unknown>();
    const call = () =>
      new Promise<{ status: number; keepAlive: string | undefined }>((resolve, reject) => {
        const req = request(
          `${gw.url}/v1/chat/completions`,
          {
            method: "POST",
            agent,
            headers: { authorization: `Bearer ${gw.key("coder")}`, "content-type": "application/json" },
          },
          (res) => {
            sockets.add(res.socket);
            res.resume();
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, keepAlive: String(res.headers["keep-alive"]) }),
            );
          },
        );
        req.on("error", reject);
        req.end(hello);
      });
    for (let i = 0; i < 10; i++) assert.equal((await call()).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 400)); // past headersTimeout, within keepAliveTimeout
    let last;
    for (let i = 0; i < 10; i++) last = await call();
    assert.equal(sockets.size, 1, "one connection for all 20 calls");
    assert.equal(last?.keepAlive, "timeout=2", "the idle time (2.5 s) is announced, in whole seconds");
    // node's Agent leaves a second before the announced time; a raw connection waits for the gateway to close it.
    const started = performance.now();
    const answer = await raw(
      gw.url,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${gw.key("coder")}\r\ncontent-length: ${hello.length}\r\n\r\n${hello}`,
    );
    const idleMs = performance.now() - started;
    t.diagnostic(
      `an idle connection was closed ${idleMs.toFixed(0)} ms after its call (keepAliveTimeout 2500 ms)`,
    );
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.ok(idleMs > 2_000 && idleMs < 4_500, `${idleMs} ms`);
  },
);

test(
  "Expect: 100-continue gets its 100 for a body under the cap and a 413 without one for a larger body",
  { timeout: 60_000 },
  async (t) => {
    const gw = await setup(t, "maxBodySize: 1K");
    const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${gw.key("coder")}\r\nexpect: 100-continue\r\ncontent-type: application/json\r\n`;
    const socket = connect(Number(new URL(gw.url).port), "127.0.0.1");
    let answer = "";
    socket.on("data", (data: Buffer) => (answer += data.toString("latin1")));
    socket.write(`${head}content-length: ${hello.length}\r\n\r\n`);
    await new Promise<void>((resolve) => socket.once("data", () => resolve()));
    assert.match(answer, /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    socket.write(hello);
    while (!/"finish_reason"/.test(answer)) await once(socket, "data");
    assert.match(answer, /HTTP\/1\.1 200 OK/);
    socket.destroy();
    const refused = await raw(gw.url, `${head}content-length: 5000\r\n\r\n`, /maxBodySize/);
    assert.match(refused, /^HTTP\/1\.1 413 /, "no 100 first: the 413 comes before the body is sent");
  },
);

test(
  "a body over the cap is answered 413 as it passes the cap; a small overshoot is drained and the connection goes on",
  { timeout: 60_000 },
  async (t) => {
    const gw = await setup(t, "maxBodySize: 1K");
    const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${gw.key("coder")}\r\ntransfer-encoding: chunked\r\n\r\n`;
    const socket = connect(Number(new URL(gw.url).port), "127.0.0.1");
    let answer = "";
    socket.on("data", (data: Buffer) => (answer += data.toString("latin1")));
    socket.write(`${head}800\r\n${"a".repeat(2048)}\r\n`);
    while (!/maxBodySize/.test(answer)) await once(socket, "data");
    assert.match(answer, /^HTTP\/1\.1 413 /, "answered while the body is still coming");
    answer = "";
    socket.write(`800\r\n${"a".repeat(2048)}\r\n0\r\n\r\n`);
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${"x"}\r\ncontent-length: 2\r\n\r\n{}`,
    );
    while (!/HTTP\/1\.1 401/.test(answer)) await once(socket, "data");
    socket.destroy();
  },
);

test(
  "framing headers llhttp refuses get a 400 and a close: disguised Transfer-Encoding and Content-Length, control bytes",
  { timeout: 60_000 },
  async (t) => {
    const gw = await setup(t, "");
    const start = `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${gw.key("coder")}\r\n`;
    for (const bad of [
      "transfer-encoding: chunked\x0b\r\n\r\n0\r\n\r\n",
      "content-length: 5\xa0\r\n\r\n{}{}{",
      "x-note: a\x00b\r\ncontent-length: 2\r\n\r\n{}",
      "x-note: a\x1bb\r\ncontent-length: 2\r\n\r\n{}",
      "x-note: a\x7fb\r\ncontent-length: 2\r\n\r\n{}",
      "content-length: 2\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
      "transfer-encoding: chunked\r\n\r\n1\r\nx\r\n0\r\ncontent-length: 9\r\n\r\n",
    ]) {
      const answer = await raw(gw.url, `${start}${bad}`);
      assert.match(answer, /^HTTP\/1\.1 400 /, JSON.stringify(bad));
    }
  },
);

test(
  "a body that trickles past requestTimeout (800 ms) gets node's 408 and a close",
  { timeout: 60_000 },
  async (t) => {
    const gw = await setup(t, "headersTimeout: 300ms, requestTimeout: 800ms");
    const socket = connect(Number(new URL(gw.url).port), "127.0.0.1");
    let answer = "";
    socket.on("data", (data: Buffer) => (answer += data.toString("latin1")));
    socket.on("error", () => {});
    const started = performance.now();
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer ${gw.key("coder")}\r\ncontent-length: 100\r\n\r\n`,
    );
    const drip = setInterval(() => socket.write("x"), 100);
    t.after(() => clearInterval(drip));
    await once(socket, "close");
    clearInterval(drip);
    const ms = performance.now() - started;
    t.diagnostic(`closed after ${ms.toFixed(0)} ms: ${answer.split("\r\n")[0]}`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(ms >= 700 && ms < 3_000, `${ms} ms`);
  },
);

test("config: a head deadline longer than the request's is refused with the field named", () => {
  const result = validateConfigText(
    "version: 1\nstateDir: /tmp/x\ngateway: { headersTimeout: 90s, requestTimeout: 60s }\n",
    "flotilla.yaml",
  );
  assert.equal(result.ok, false);
  assert.match(JSON.stringify(!result.ok && result.problems), /gateway\.headersTimeout.*requestTimeout/);
});
