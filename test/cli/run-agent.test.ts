/** `flotilla run-agent` runs one agent in the foreground with its own env and workspace, as the systemd template does. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readDaemonInfo } from "../../src/api/daemon-files.ts";
import { fleetDir, NODE, runCli, waitFor } from "../support/fleet.ts";

test("run-agent gives the agent its env and workspace and returns its exit code", async (t) => {
  const script =
    "require('fs').writeFileSync('seen.json', JSON.stringify({ cwd: process.cwd(), env: process.env })); process.exit(7)";
  const { dir, file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n  - { name: solo, command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(script)}], workspace: ./ws/solo, env: { MODE: test } }\n`,
  );
  const result = await runCli(["run-agent", "solo", "-c", file], {
    env: { ...process.env, SECRET_OF_DAEMON: "x" },
  });
  assert.equal(result.code, 7);
  const seen = JSON.parse(readFileSync(join(dir, "ws/solo/seen.json"), "utf8")) as {
    cwd: string;
    env: Record<string, string>;
  };
  assert.equal(seen.cwd, join(dir, "ws/solo"));
  assert.equal(seen.env.MODE, "test");
  assert.equal(seen.env.FLOTILLA_AGENT_NAME, "solo");
  assert.equal(seen.env.SECRET_OF_DAEMON, undefined);
  const unknown = await runCli(["run-agent", "nobody", "-c", file]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no agent named "nobody" \(agents: solo\)/);
});

test("run-agent gives an agent exactly the daemon's environment, its brief and the same sandbox", async (t) => {
  const script = `const fs = require('fs');
fs.writeFileSync('seen-' + Math.random() + '.json', JSON.stringify({
  env: process.env,
  brief: fs.existsSync('FLOTILLA.md'),
  stateVisible: fs.existsSync('../../state/token'),
  processes: fs.readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p)).length,
}));`;
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - { name: solo, command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(script)}], workspace: ./ws/solo }
`,
  );
  const seen = () =>
    readdirSync(join(dir, "ws/solo"))
      .filter((f) => f.startsWith("seen-"))
      .map((f) => JSON.parse(readFileSync(join(dir, "ws/solo", f), "utf8")) as Seen);
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  await waitFor(() => seen().length === 1, "the daemon's start");
  const alone = await runCli(["run-agent", "solo", "-c", file]);
  assert.equal(alone.code, 0, alone.stderr);
  const [first, second] = seen();
  assert.ok(first && second && seen().length === 2, "both starts recorded");
  assert.deepEqual(second.env, first.env, "the same environment, key and API URL included");
  assert.match(first.env.FLOTILLA_AGENT_KEY ?? "", /^flt-solo-v1-/);
  assert.equal(first.env.FLOTILLA_API_URL, readDaemonInfo(join(dir, "state"))?.api);
  for (const s of [first, second]) {
    assert.ok(s.brief, "FLOTILLA.md was written before the start");
    assert.equal(s.stateVisible, false, "the state dir is hidden");
    assert.ok(s.processes <= 4, `only the sandbox's processes are visible (${s.processes})`);
  }
});

interface Seen {
  env: Record<string, string>;
  brief: boolean;
  stateVisible: boolean;
  processes: number;
}
