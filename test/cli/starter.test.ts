/**
 * The starter config starts: `init` then `up` runs two example agents through the gateway and simulator, as
 * written. Uncommenting the OpenClaw agent without its program and token gives every problem in one pass
 * and creates nothing.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { STARTER_BASE_PORT } from "../../src/config/starter-config.ts";
import { FLEETS_DIR, runCli, status, waitFor } from "../support/fleet.ts";

function freshDir(t: { after: (fn: () => Promise<void>) => void }): string {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-starter-"));
  t.after(async () => {
    await runCli(["down"], { cwd: dir });
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

test("init then up: the starter fleet runs as is, its agents thinking through the gateway", async (t) => {
  const dir = freshDir(t);
  assert.equal((await runCli(["init"], { cwd: dir })).code, 0);
  const up = await runCli(["up", "--detach"], { cwd: dir });
  assert.equal(up.code, 0, up.stderr);
  const file = join(dir, "flotilla.yaml");
  const rows = await waitFor(async () => {
    const all = await status(file);
    return all.every((r) => r.state === "running" && r.health.ok === true) ? all : undefined;
  }, "the starter fleet running and healthy");
  assert.deepEqual(rows.map((r) => r.name).sort(), ["coder", "coordinator", "gateway", "simulator"]);
  const res = await fetch(`http://127.0.0.1:${STARTER_BASE_PORT + 2}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify({ model: "x", messages: [{ role: "user", content: "write a haiku" }] }),
  });
  assert.equal(res.status, 200, "the coder answered, through the gateway and the simulator");
});

test("an uncommented OpenClaw agent without its program and token: every problem at once, nothing created", async (t) => {
  const dir = freshDir(t);
  assert.equal((await runCli(["init"], { cwd: dir })).code, 0);
  const file = join(dir, "flotilla.yaml");
  // Uncomment the OpenClaw block, as an operator would.
  const lines = readFileSync(file, "utf8").split("\n");
  const from = lines.findIndex((l) => l.startsWith("  # - name: claw"));
  let i = from;
  while (lines[i]?.startsWith("  #   ") || i === from) {
    lines[i] = `  ${(lines[i] ?? "").slice(4)}`;
    i++;
  }
  writeFileSync(file, lines.join("\n"));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: "/usr/bin:/bin" };
  delete env.COORDINATOR_GATEWAY_TOKEN;
  const up = await runCli(["up", "--detach"], { cwd: dir, env });
  assert.equal(up.code, 1);
  assert.match(
    up.stderr,
    /agents\.claw\.env\.OPENCLAW_GATEWAY_TOKEN: environment variable COORDINATOR_GATEWAY_TOKEN is not set/,
  );
  assert.match(up.stderr, /agent claw: command "openclaw" was not found on the agent's PATH/);
  assert.match(up.stderr, /nothing was started/);
  assert.ok(!existsSync(join(dir, "workspaces")), "no workspace was created");
});
