/**
 * An agent's PATH is the operator's: Flotilla's own node_modules/.bin and npx's cache are taken out, and the
 * agent gets the same PATH under the daemon, under `run-agent` and under the systemd units.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isToolEntry, operatorPath } from "../../src/supervisor/agent-path.ts";
import { fleetDir, NODE, ROOT, runCli, waitFor } from "../support/fleet.ts";

const OPERATOR = "/usr/local/bin:/usr/bin:/bin";
/** What the operator's shell has under `npx flotilla`: npx's cache and Flotilla's own .bin in front. */
const UNDER_NPX = [
  join(homedir(), ".npm/_npx/4f2a9c1d/node_modules/.bin"),
  join(ROOT, "node_modules/.bin"),
  join(ROOT, "..", "node_modules/.bin"),
  OPERATOR,
].join(":");

test("tool folders are recognised and the rest of PATH keeps its order", () => {
  assert.equal(operatorPath(UNDER_NPX), OPERATOR);
  assert.equal(operatorPath(`/opt/bin:${OPERATOR}:/opt/bin`), `/opt/bin:${OPERATOR}`, "duplicates go");
  assert.equal(isToolEntry("/home/op/project/node_modules/.bin"), false, "an unrelated project's .bin stays");
});

test("the same agent gets the same PATH under the daemon, run-agent and systemd", async (t) => {
  const script = "require('fs').writeFileSync('path.txt', process.env.PATH ?? '(none)')";
  const { dir, file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n  - { name: pathy, command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(script)}], workspace: ./ws }\n`,
  );
  const env = { ...process.env, PATH: UNDER_NPX };
  const written = join(dir, "ws/path.txt");
  const seen = async () => {
    const path = await waitFor(
      () => existsSync(written) && readFileSync(written, "utf8"),
      "the agent's PATH",
    );
    rmSync(written);
    return path;
  };

  assert.equal((await runCli(["up", "--detach", "-c", file], { env })).code, 0);
  const underDaemon = await seen();
  assert.equal(underDaemon, OPERATOR, "no npx cache and no Flotilla .bin under the daemon");
  assert.equal((await runCli(["down", "-c", file], { env })).code, 0);

  const run = await runCli(["run-agent", "pathy", "-c", file], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(await seen(), underDaemon, "run-agent gives the agent the same PATH");

  const units = join(dir, "units");
  assert.equal((await runCli(["systemd", "generate", "--out", units, "-c", file], { env })).code, 0);
  for (const unit of ["flotilla.service", "flotilla-agent@.service"]) {
    const text = readFileSync(join(units, unit), "utf8");
    assert.match(text, new RegExp(`^Environment=PATH=${OPERATOR}$`, "m"), `${unit} pins the operator's PATH`);
  }
  // The daemon as systemd starts it: with the unit's PATH and nothing else of the shell's.
  assert.equal(
    (await runCli(["up", "--detach", "-c", file], { env: { ...process.env, PATH: OPERATOR } })).code,
    0,
  );
  assert.equal(await seen(), underDaemon, "under the systemd unit's PATH the agent's PATH is the same");
});
