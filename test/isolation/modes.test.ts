/**
 * Each isolation mode where it can work, and a clear refusal where it cannot: a user of its own (as root),
 * user mode without root, a missing bubblewrap, and a config that grants a path inside the state dir.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readDaemonInfo } from "../../src/api/daemon-files.ts";
import { fleetDir, NODE, ROOT, runCli, status, waitFor } from "../support/fleet.ts";

const isRoot = process.getuid?.() === 0;
const RECORD = `const fs = require('fs');
let token = 'hidden';
try { token = fs.readFileSync('../../state/token', 'utf8') ? 'read' : 'empty'; } catch (e) { token = e.code; }
fs.writeFileSync('seen.json', JSON.stringify({ uid: process.getuid(), token }));
setInterval(() => {}, 1e9);`;

/** Whether other users can run this Node (the user-mode agent must): every folder on its path searchable. */
function nodeReachableByOthers(): boolean {
  const run = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "test", "-x", NODE]);
  return run.status === 0;
}

test("isolation user runs the agent as a user of its own that cannot read the state dir", async (t) => {
  if (!isRoot) return t.skip("mode user needs the daemon to run as root (CI runs as root)");
  if (!nodeReachableByOthers()) return t.skip("this Node binary is not reachable by other users here");
  t.after(() => spawnSync("userdel", ["flotilla-uprobe"]));
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - name: uprobe
    command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(RECORD)}]
    workspace: ./ws/uprobe
    isolation: { mode: user, createUser: true }
`,
  );
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  const seenFile = join(dir, "ws/uprobe/seen.json");
  await waitFor(() => existsSync(seenFile), "the agent's record");
  const seen = JSON.parse(readFileSync(seenFile, "utf8")) as { uid: number; token: string };
  const uid = Number(spawnSync("id", ["-u", "flotilla-uprobe"], { encoding: "utf8" }).stdout.trim());
  assert.ok(uid > 0, "the user was created");
  assert.equal(seen.uid, uid, "the agent runs as flotilla-uprobe");
  assert.equal(seen.token, "EACCES", "the state dir (0700, root's) is closed to it");
  const ws = statSync(join(dir, "ws/uprobe"));
  assert.equal(ws.uid, uid, "its workspace is its own");
  assert.equal(ws.mode & 0o777, 0o700, "and closed to other users");
  const row = JSON.parse((await runCli(["status", "--json", "-c", file])).stdout) as {
    agents: Array<{ name: string; isolation: string }>;
  };
  assert.match(row.agents[0]?.isolation ?? "", new RegExp(`^user flotilla-uprobe \\(uid ${uid}\\)$`));
});

test("isolation user without root, a missing bwrap, and a grant inside the state dir are refused before anything starts", async (t) => {
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - { name: solo, command: [${JSON.stringify(NODE)}, "-e", "1"], workspace: ./ws/solo, isolation: { writable: [./state/logs] } }
`,
  );
  mkdirSync(join(dir, "state/logs"), { recursive: true });
  const granted = await runCli(["up", "--detach", "-c", file]);
  assert.equal(granted.code, 1);
  assert.match(
    granted.stderr,
    /agent solo: isolation\.writable\[0\]: \S+\/state\/logs is inside the state dir \S+, which agents must never reach; remove it/,
  );
  assert.match(granted.stderr, /nothing was started/);
  assert.equal(readDaemonInfo(join(dir, "state")), undefined, "no daemon kept running");

  writeFileSync(
    file,
    readFileSync(file, "utf8").replace("isolation: { writable: [./state/logs] }", "isolation: sandbox"),
  );
  // No bwrap on PATH: the sandbox cannot start, and the error says what to install or choose.
  const noBwrap = await runCli(["run-agent", "solo", "-c", file], {
    env: { ...process.env, PATH: join(ROOT, "no-such-folder") },
  });
  assert.equal(noBwrap.code, 1);
  assert.match(
    noBwrap.stderr,
    /agent solo: isolation sandbox: bubblewrap \(bwrap\) is not installed; install it \(Debian\/Ubuntu: apt-get install bubblewrap.*\), or set isolation: none for this agent/,
  );
  assert.ok(!existsSync(join(dir, "ws/solo/FLOTILLA.md")), "nothing was prepared");

  writeFileSync(
    file,
    readFileSync(file, "utf8").replace("isolation: sandbox", "isolation: { mode: user, createUser: true }"),
  );
  if (!isRoot) {
    const refused = await runCli(["run-agent", "solo", "-c", file]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /agent solo: isolation user needs the daemon to run as root \(it runs as uid \d+\)/,
    );
    return;
  }
  if (!nodeReachableByOthers()) return t.skip("this Node binary is not reachable by other users here");
  // As root, try it as an unprivileged user (nobody) who owns the fleet's folder.
  spawnSync("chown", ["-R", "65534:65534", dir]);
  const refused = spawnSync(
    "setpriv",
    [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      NODE,
      join(ROOT, "bin/flotilla.js"),
      "run-agent",
      "solo",
      "-c",
      file,
    ],
    { encoding: "utf8" },
  );
  assert.equal(refused.status, 1);
  assert.match(
    refused.stderr,
    /agent solo: isolation user needs the daemon to run as root \(it runs as uid 65534\); run it as root \(the systemd system unit\), or choose isolation: sandbox/,
  );
});

test("a sandboxed agent is stopped gracefully: SIGTERM reaches it inside the sandbox and it finishes", async (t) => {
  const graceful = `process.on('SIGTERM', () => setTimeout(() => { require('fs').writeFileSync('finished', 'yes'); process.exit(0); }, 300));
require('fs').writeFileSync('started', 'yes'); setInterval(() => {}, 1e9);`;
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - { name: calm, command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(graceful)}], workspace: ./ws/calm, stopTimeout: 5s }
`,
  );
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  await waitFor(() => existsSync(join(dir, "ws/calm/started")), "the agent running");
  const stopped = await runCli(["stop", "calm", "--json", "-c", file]);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(existsSync(join(dir, "ws/calm/finished")), "it finished its shutdown before the sandbox ended");
  const row = (JSON.parse(stopped.stdout) as { agents: Array<{ lastExit: { code: number | null } }> })
    .agents[0];
  assert.equal(row?.lastExit?.code, 0, "and exited 0, not killed");
});

test("a config apply that grants a path inside the state dir is refused and the running agent is untouched", async (t) => {
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - { name: steady, command: [${JSON.stringify(NODE)}, "-e", "setInterval(() => {}, 1e9)"], workspace: ./ws/steady }
`,
  );
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  const before = await waitFor(
    async () => (await status(file)).find((a) => a.state === "running"),
    "steady running",
  );
  const proposed = join(dir, "proposed.yaml");
  writeFileSync(
    proposed,
    readFileSync(file, "utf8").replace(
      "workspace: ./ws/steady }",
      "workspace: ./ws/steady, isolation: { readable: [./state] } }",
    ),
  );
  const applied = await runCli(["config", "apply", proposed, "--yes", "-c", file]);
  assert.equal(applied.code, 1);
  assert.match(applied.stderr, /agent steady: isolation\.readable\[0\]: \S+\/state is inside the state dir/);
  assert.match(applied.stderr, /nothing was changed/);
  const after = (await status(file)).find((a) => a.name === "steady");
  assert.equal(after?.pid, before.pid, "the running agent was not restarted");
  assert.equal(after?.restarts, 0);
});
