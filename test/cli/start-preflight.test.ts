/** `flotilla start` runs the same preflight as `up`: a taken port is one clear error, not a crash loop. */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { fleetDir, freePorts, runCli, status, waitFor } from "../support/fleet.ts";
import { agentLine } from "../support/migrations.ts";

test("start refuses an agent whose port is taken, names the port, and starts it once the port is free", async (t) => {
  const [pa = 0, pw = 0] = await freePorts(2);
  const web = agentLine({ name: "web", port: pw, extra: "autostart: false" });
  const { file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nagents:\n${agentLine({ name: "alpha", port: pa })}\n${web}\n`,
  );
  assert.equal((await runCli(["up", "--detach", "-c", file])).code, 0);
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(pw, "127.0.0.1", resolve));
  t.after(() => squatter.close());

  const refused = await runCli(["start", "web", "-c", file]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
  assert.match(
    refused.stderr,
    new RegExp(`^flotilla start: agent web: port ${pw} is already in use.*web was not started`),
  );
  const rows = await status(file);
  assert.deepEqual(
    rows.filter((r) => r.name === "web").map((r) => [r.state, r.restarts]),
    [["stopped", 0]],
    "nothing was started, so nothing crash-loops",
  );

  await new Promise((resolve) => squatter.close(resolve));
  assert.equal((await runCli(["start", "web", "-c", file])).code, 0);
  await waitFor(
    async () => (await status(file)).some((r) => r.name === "web" && r.state === "running"),
    "web running",
  );
});
