/** Limits hold from the agent's first instruction, and status says how each was applied or why it was not. */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fleetDir, NODE, runCli, waitFor } from "../support/fleet.ts";

const READER =
  "require('fs').writeFileSync('limits.txt', require('fs').readFileSync('/proc/self/limits', 'utf8') + '\\n--cgroup--\\n' + require('fs').readFileSync('/proc/self/cgroup', 'utf8')); setInterval(() => {}, 1e9)";

test("files is an rlimit; memory and cpu go to cgroups where writable, else a clear warning", async (t) => {
  const { dir, file } = fleetDir(
    t,
    `version: 1
stateDir: ./state
agents:
  - name: capped
    command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(READER)}]
    workspace: ./ws
    limits: { files: 321, memory: 256M, cpu: 0.5 }
`,
  );
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  const limitsFile = join(dir, "ws/limits.txt");
  await waitFor(() => existsSync(limitsFile), "the agent to report its limits");
  const seen = readFileSync(limitsFile, "utf8");
  assert.match(seen, /Max open files\s+321\s+321/);
  const status = JSON.parse((await runCli(["status", "--json", "-c", file])).stdout) as {
    agents: Array<{ limits: { applied: string[]; warnings: string[] } }>;
  };
  const limits = status.agents[0]?.limits;
  assert.ok(limits);
  assert.ok(limits.applied.includes("files: RLIMIT_NOFILE (ulimit -n)"));
  for (const kind of ["memory", "cpu"]) {
    const applied = limits.applied.find((line) => line.startsWith(`${kind}: cgroup`));
    const warned = limits.warnings.find((line) => line.includes(kind));
    assert.ok(applied || warned, `${kind} is neither applied nor warned about`);
    if (applied)
      assert.match(
        seen.split("--cgroup--")[1] ?? "",
        /flotilla-[0-9a-f]+\/capped/,
        `${kind}: the agent runs in its cgroup`,
      );
  }
  if (limits.warnings.length > 0) {
    const log = readFileSync(join(dir, "state/logs/capped.log"), "utf8");
    assert.match(log, /\[flotilla\] limit not applied: /);
  }
});
