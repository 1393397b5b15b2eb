/** `flotilla sim -c FILE` runs a fleet config's simulator: section; a drill scripts one key's errors over HTTP; bad input gets one clear line. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { BIN, NODE, runCli } from "../support/fleet.ts";

function configFile(t: TestContext, yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-sim-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, `version: 1\nstateDir: ./state\n${yaml}`);
  return file;
}

function chat(url: string) {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer drill-key", "content-type": "application/json" },
    body: JSON.stringify({ model: "sim-large", messages: [{ role: "user", content: "hi" }] }),
  });
}

test("sim -c runs the simulator: section, and a drill scripts a key's quota error over HTTP", async (t) => {
  const file = configFile(t, "simulator:\n  listen: 127.0.0.1:0\n  keys: { drill-key: { rpm: 100 } }\n");
  const sim = spawn(NODE, [BIN, "sim", "-c", file, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => sim.once("exit", resolve));
  t.after(() => sim.kill("SIGKILL"));
  let stdout = "";
  const url = await new Promise<string>((resolve, reject) => {
    sim.once("exit", () => reject(new Error("sim exited before listening")));
    sim.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n")[0] ?? "";
      if (stdout.includes("\n")) resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  assert.equal((await chat(url)).status, 200);
  const scripted = await fetch(`${url}/_sim/keys/drill-key/fault`, {
    method: "POST",
    body: JSON.stringify({ kind: "quota", times: 1 }),
  });
  assert.equal(scripted.status, 200);
  const refused = await chat(url);
  assert.equal(refused.status, 429);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "insufficient_quota");
  assert.equal((await chat(url)).status, 200, "times: 1 ran out");
  const misspelt = await fetch(`${url}/_sim/keys/drill-key/fault`, {
    method: "POST",
    body: JSON.stringify({ kind: "quotas" }),
  });
  assert.equal(misspelt.status, 400, "a fault that does not parse is refused, not taken as a clear");
  assert.match(((await misspelt.json()) as { error: string }).error, /^kind: /);
  sim.kill("SIGTERM");
  assert.equal(await exited, 0);
  const stats = JSON.parse(stdout.slice(stdout.indexOf("\n") + 1)) as {
    stats: { byKey: Record<string, { ok: number; errors: number }> };
  };
  const drill = stats.stats.byKey["drill-key"];
  assert.deepEqual(
    { ok: drill?.ok, errors: drill?.errors },
    { ok: 2, errors: 1 },
    "its counts on the way out",
  );
});

test("sim -c without a simulator: section, and a bad fault kind, each get one clear line", async (t) => {
  const bare = configFile(t, "agents: []\n");
  const missing = await runCli(["sim", "-c", bare]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^flotilla sim: .*flotilla\.yaml: no simulator: section; add one/);
  assert.equal(missing.stderr.trim().split("\n").length, 1);
  const wrong = configFile(t, "simulator:\n  keys:\n    k: { fault: { kind: meltdown } }\n");
  const invalid = await runCli(["sim", "-c", wrong]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /flotilla\.yaml:5: simulator\.keys\.k\.fault\.kind: /);
  assert.doesNotMatch(invalid.stderr, /\n\s+at /);
});
