/**
 * No hidden daemons: a workspace under /proc is refused at once with the reason; `status` and `down` see a
 * daemon that never opened its API.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readProc } from "../../src/supervisor/process-tree.ts";
import { EXAMPLE_AGENT, fleetDir, NODE, pidAlive, runCli, waitFor } from "../support/fleet.ts";

test("up refuses a workspace under /proc, /sys or /dev at once, says why, and leaves no daemon", async (t) => {
  for (const root of ["/proc", "/sys", "/dev"]) {
    const yaml = `version: 1\nstateDir: ./state\nagents:\n  - { name: web, command: [${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}], workspace: ${root}/flotilla-ws/web }\n`;
    const { file } = fleetDir(t, yaml);
    const started = Date.now();
    const up = await runCli(["up", "--detach", "-c", file]);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(up.code, 1, up.stderr);
    assert.ok(seconds < 15, `up took ${seconds}s`);
    assert.match(
      up.stderr,
      new RegExp(`agent web: workspace ${root}/flotilla-ws/web is under ${root}, a kernel file system`),
    );
    const status = await runCli(["status", "--json", "-c", file]);
    assert.equal(
      (JSON.parse(status.stdout) as { daemon: unknown }).daemon,
      null,
      "no daemon is left running",
    );
  }
});

test("status and down see a daemon that never opened its API", async (t) => {
  const { dir, file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n  - { name: web, command: [${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}], workspace: ./ws }\n`,
  );
  // A stand-in for a daemon stuck before its API: a live process that claimed the state dir.
  const stuck = spawn(NODE, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  t.after(() => stuck.kill("SIGKILL"));
  await new Promise((resolve) => stuck.once("spawn", resolve));
  const pid = stuck.pid ?? 0;
  mkdirSync(join(dir, "state"), { recursive: true });
  const info = {
    pid,
    startTime: readProc(pid)?.startTime ?? 0,
    api: "",
    config: file,
    startedAt: Date.now(),
  };
  writeFileSync(join(dir, "state", "daemon.json"), JSON.stringify(info));

  const status = await runCli(["status", "-c", file]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`the daemon \\(pid ${pid}\\) is starting: its API is not open yet`));
  const down = await runCli(["down", "-c", file]);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, new RegExp(`stopped the daemon \\(pid ${pid}\\)`));
  await waitFor(() => !pidAlive(pid), "the stuck daemon gone");
});
