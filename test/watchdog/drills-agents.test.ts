/**
 * The agent drills end to end: a real fleet, the real `flotilla watchdog` loop as its own process, and
 * `flotilla drill` through the CLI. kill-agent and hang-agent end healthy without a human; slow-start
 * causes no kill and no watchdog action.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pidAlive, status } from "../support/fleet.ts";
import { fleetHealthy, runDrillCli, startDrillFleet, startWatchdog } from "../support/drill-fleet.ts";

test("kill-agent, hang-agent and slow-start against the real watchdog loop", async (t) => {
  const fleet = await startDrillFleet(t);
  const watchdog = await startWatchdog(fleet);
  const explain = (result: object) =>
    `${JSON.stringify(result, null, 2)}\nwatchdog output:\n${watchdog.output()}`;
  const row = async (name: string) => (await status(fleet.file)).find((r) => r.name === name);
  try {
    await t.test("kill-agent: the watchdog starts the agent the supervisor left failed", async () => {
      const before = await row("coder");
      const result = await runDrillCli(fleet, ["kill-agent", "--timeout", "60s"]);
      assert.equal(result.pass, true, explain(result));
      assert.equal(result.target, "agent:coder");
      assert.notEqual(result.detectMs, null);
      assert.notEqual(result.recoverMs, null);
      assert.ok(result.actions >= 1, explain(result));
      assert.equal(result.escalations, 0);
      const after = await row("coder");
      assert.equal(after?.state, "running");
      assert.notEqual(after?.pid, before?.pid, "a new process");
      const [incident = ""] = result.incidents;
      assert.ok(existsSync(join(fleet.stateDir, "incidents", `${incident}.md`)), "the incident file");
    });

    await t.test("hang-agent: a stopped agent is restarted", async () => {
      const before = await row("hanger");
      const result = await runDrillCli(fleet, ["hang-agent", "--agent", "hanger", "--timeout", "60s"]);
      assert.equal(result.pass, true, explain(result));
      assert.equal(result.target, "agent:hanger");
      assert.ok(result.actions >= 1, explain(result));
      const after = await row("hanger");
      assert.notEqual(after?.pid, before?.pid);
      assert.equal(pidAlive(before?.pid ?? 0), false, "the stopped process is gone");
    });

    await t.test(
      "slow-start: healthy only after 5 s, inside its 10 s grace: no kill, no action",
      async () => {
        const result = await runDrillCli(fleet, [
          "slow-start",
          "--agent",
          "slow",
          "--delay",
          "5s",
          "--timeout",
          "40s",
        ]);
        assert.equal(result.pass, true, explain(result));
        assert.equal(result.actions, 0);
        assert.equal(result.escalations, 0);
        assert.ok((result.recoverMs ?? 0) >= 5_000, "healthy only after the delay");
      },
    );

    await fleetHealthy(fleet);
  } finally {
    await watchdog.stop();
  }
});
