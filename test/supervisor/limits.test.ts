/** Limits hold from the agent's first instruction, survive restarts, and status says how each was applied or why it was not. */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { instanceId } from "../../src/supervisor/supervisor.ts";
import { fleetDir, NODE, runCli, status, waitFor } from "../support/fleet.ts";

const READER =
  "require('fs').writeFileSync('limits.txt', require('fs').readFileSync('/proc/self/limits', 'utf8') + '\\n--cgroup--\\n' + require('fs').readFileSync('/proc/self/cgroup', 'utf8')); setInterval(() => {}, 1e9)";

const CGROUP_ROOT = "/sys/fs/cgroup";

/** Which cgroup version this machine lets us write, found by a probe folder of our own (not by the code under test). */
function writableCgroups(): "v2" | "v1" | null {
  const probe = (dir: string, file: string, value: string): boolean => {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, file), value);
      return true;
    } catch {
      return false;
    } finally {
      try {
        rmdirSync(dir);
      } catch {
        // never made
      }
    }
  };
  const name = `flotilla-probe-${process.pid}`;
  if (existsSync(join(CGROUP_ROOT, "cgroup.controllers")))
    // Limits need the controllers enabled below the root (refused where the root holds processes).
    return probe(join(CGROUP_ROOT, name), "cgroup.max.depth", "max") &&
      probe(join(CGROUP_ROOT, name), "../cgroup.subtree_control", "+memory +cpu")
      ? "v2"
      : null;
  if (existsSync(join(CGROUP_ROOT, "memory")))
    return probe(join(CGROUP_ROOT, "memory", name), "memory.limit_in_bytes", "268435456") ? "v1" : null;
  return null;
}

/** The limit values the kernel holds for the agent's cgroups: memory in bytes and cpu as "quota period". */
function cgroupLimits(version: "v2" | "v1", group: string): { memory: string; cpu: string } {
  const read = (...parts: string[]) => readFileSync(join(CGROUP_ROOT, ...parts), "utf8").trim();
  if (version === "v2") return { memory: read(group, "memory.max"), cpu: read(group, "cpu.max") };
  return {
    memory: read("memory", group, "memory.limit_in_bytes"),
    cpu: `${read("cpu", group, "cpu.cfs_quota_us")} ${read("cpu", group, "cpu.cfs_period_us")}`,
  };
}

function cappedYaml(): string {
  return `version: 1
stateDir: ./state
agents:
  - name: capped
    command: [${JSON.stringify(NODE)}, "-e", ${JSON.stringify(READER)}]
    workspace: ./ws
    restart: { delay: 100ms, burst: 5/1m }
    limits: { files: 321, memory: 256M, cpu: 0.5 }
`;
}

test("files is an rlimit; memory and cpu go to cgroups where writable (values checked), else a clear warning", async (t) => {
  const { dir, file } = fleetDir(t, cappedYaml());
  const version = writableCgroups();
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
  if (version === null) {
    for (const kind of ["memory", "cpu"])
      assert.ok(
        limits.warnings.some((line) => line.includes(kind)),
        `${kind}: no writable cgroup, so a warning`,
      );
    const log = readFileSync(join(dir, "state/logs/capped.log"), "utf8");
    assert.match(log, /\[flotilla\] limit not applied: /);
    return;
  }
  const expected =
    version === "v2"
      ? ["files: RLIMIT_NOFILE (ulimit -n)", "memory: cgroup v2 memory.max", "cpu: cgroup v2 cpu.max"]
      : [
          "files: RLIMIT_NOFILE (ulimit -n)",
          "memory: cgroup v1 memory.limit_in_bytes",
          "cpu: cgroup v1 cpu.cfs_quota_us",
        ];
  assert.deepEqual([...limits.applied].sort(), expected.sort());
  assert.deepEqual(limits.warnings, []);
  const group = `flotilla-${instanceId(join(dir, "state"))}/capped`;
  assert.deepEqual(cgroupLimits(version, group), { memory: String(256 * 1024 * 1024), cpu: "50000 100000" });
  assert.ok(seen.split("--cgroup--")[1]?.includes(group), "the agent runs in its cgroup");
});

test("an agent with cgroup limits restarts after it dies, in a cgroup that holds its limits again", async (t) => {
  const version = writableCgroups();
  if (version === null) return t.skip("no writable cgroup here (CI runs this as root)");
  const { dir, file } = fleetDir(t, cappedYaml());
  const up = await runCli(["up", "--detach", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  const limitsFile = join(dir, "ws/limits.txt");
  await waitFor(() => existsSync(limitsFile), "the first start to report its limits");
  const first = await waitFor(
    async () => (await status(file)).find((a) => a.state === "running"),
    "capped running",
  );
  rmSync(limitsFile);
  process.kill(first.pid ?? 0, "SIGKILL");
  const second = await waitFor(async () => {
    const row = (await status(file))[0];
    if (row?.state === "failed") throw new Error("the agent failed instead of restarting");
    return row?.state === "running" && row.pid !== first.pid && existsSync(limitsFile) ? row : undefined;
  }, "capped running again with a new pid");
  assert.equal(second.restarts, 1);
  const group = `flotilla-${instanceId(join(dir, "state"))}/capped`;
  assert.ok(readFileSync(limitsFile, "utf8").split("--cgroup--")[1]?.includes(group), "back in its cgroup");
  assert.deepEqual(cgroupLimits(version, group), { memory: String(256 * 1024 * 1024), cpu: "50000 100000" });
});
