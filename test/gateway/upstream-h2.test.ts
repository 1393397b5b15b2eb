/**
 * HTTP/2 upstreams and custom CAs: a local h2-only server with a throwaway openssl certificate, trusted by
 * the gateway process through NODE_EXTRA_CA_CERTS. With the provider's `http2` switch on, calls (whole and
 * streamed) go over HTTP/2; with it off, the same server is a clear 502, not a hang.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createSecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { spawnGateway } from "../support/gateway-process.ts";

const ANSWER = JSON.stringify({
  id: "h2",
  object: "chat.completion",
  created: 1,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "over h2" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
});
const FRAME = `data: ${JSON.stringify({
  id: "h2",
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [{ index: 0, delta: { content: "over h2" }, finish_reason: "stop" }],
})}\n\ndata: [DONE]\n\n`;

test(
  "the http2 switch speaks HTTP/2 to an h2-only provider trusted through NODE_EXTRA_CA_CERTS; without it, a clear 502",
  { timeout: 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-h2-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        .concat(["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost"])
        .concat(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]),
      { stdio: "ignore" },
    );
    const versions: string[] = [];
    const server = createSecureServer(
      { key: readFileSync(key), cert: readFileSync(cert), allowHTTP1: false },
      (req, res) => {
        versions.push(req.httpVersion);
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () => {
          const stream = (JSON.parse(body) as { stream?: boolean }).stream === true;
          res.writeHead(200, { "content-type": stream ? "text/event-stream" : "application/json" });
          res.end(stream ? FRAME : ANSWER);
        });
      },
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    t.after(() => server.close());
    const base = `https://localhost:${(server.address() as AddressInfo).port}/v1`;
    const gw = await spawnGateway(
      t,
      `version: 1
providers:
  - { id: h2, kind: openai, baseUrl: ${base}, keys: [{ env: H2_KEY }], http2: true }
  - { id: h1, kind: openai, baseUrl: ${base}, keys: [{ env: H2_KEY }], timeout: 5s }
models:
  h2: [{ provider: h2, model: m }]
  h1: [{ provider: h1, model: m }]
agents:
  - { name: coder, command: x, workspace: /tmp }
`,
      { H2_KEY: "sk-h2-test", NODE_EXTRA_CA_CERTS: cert },
    );
    const call = (model: string, stream = false) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${gw.key("coder")}`, "content-type": "application/json" },
        body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hello" }] }),
        signal: AbortSignal.timeout(10_000),
      });
    const whole = await call("h2");
    assert.equal(whole.status, 200);
    assert.match(await whole.text(), /over h2/);
    const streamed = await call("h2", true);
    assert.equal(streamed.status, 200);
    assert.match(await streamed.text(), /over h2/);
    assert.deepEqual(versions, ["2.0", "2.0"]);
    const refused = await call("h1");
    const text = await refused.text();
    t.diagnostic(`http2 off against an h2-only server: ${refused.status} ${text}`);
    assert.equal(refused.status, 502);
    assert.match(
      text,
      /h1: network \(ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL: the provider speaks only HTTP\/2; set http2: true on it\)/,
    );
  },
);
