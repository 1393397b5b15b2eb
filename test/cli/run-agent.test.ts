/** `flotilla run-agent` runs one agent in the foreground with its own env and workspace, as the systemd template does. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fleetDir, NODE, runCli } from "../support/fleet.ts";

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
