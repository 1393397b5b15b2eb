/** The GitHub CI source against a scripted loopback server: refusals, oversized and broken answers are "error", never a pass. */
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { githubCi } from "../../src/oversight/ci/github.ts";

const SHA = "a".repeat(40);

async function scripted(t: TestContext, answer: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((_req, res) => answer(res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test("a refused token is an error that says to check the token", async (t) => {
  const apiUrl = await scripted(t, (res) => {
    res.writeHead(401, { "content-type": "application/json" });
    res.end('{"message":"Bad credentials"}');
  });
  const result = await githubCi({ apiUrl, repo: "acme/w", token: "ghp_x" }, SHA);
  assert.equal(result.state, "error");
  assert.match(result.detail, /answered HTTP 401 \(check the token and its scopes\)/);
  assert.ok(!result.detail.includes("ghp_x"));
});

test("an answer over the size cap, or not JSON, is an error", async (t) => {
  const big = await scripted(t, (res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(`{"statuses":[${'{"state":"success","context":"x"},'.repeat(40_000)}{}]}`);
  });
  assert.match(
    (await githubCi({ apiUrl: big, repo: "acme/w", token: undefined }, SHA)).detail,
    /an answer over 1048576 bytes/,
  );
  const html = await scripted(t, (res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html>maintenance</html>");
  });
  const result = await githubCi({ apiUrl: html, repo: "acme/w", token: undefined }, SHA);
  assert.equal(result.state, "error");
  assert.match(result.detail, /not a JSON object/);
});

test("neutral and skipped check runs pass; a status still pending keeps it pending", async (t) => {
  const apiUrl = await scripted(t, (res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        state: "pending",
        statuses: [{ state: "pending", context: "deploy/preview" }],
        check_runs: [
          { name: "lint", status: "completed", conclusion: "neutral" },
          { name: "docs", status: "completed", conclusion: "skipped" },
        ],
        total_count: 2,
      }),
    );
  });
  const result = await githubCi({ apiUrl, repo: "acme/w", token: undefined }, SHA);
  assert.deepEqual(result, { state: "pending", detail: "status deploy/preview: pending" });
});
