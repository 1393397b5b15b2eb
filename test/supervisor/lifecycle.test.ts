/** The supervisor with real processes: restart after SIGKILL, crash loops, stop of whole trees, SIGKILL escalation, daemon death. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { findByEnv, readProc } from "../../src/supervisor/process-tree.ts";
import { instanceId } from "../../src/supervisor/supervisor.ts";
import {
  hostPid,
  EXAMPLE_AGENT,
  fleetDir,
  freePorts,
  NODE,
  pidAlive,
  runCli,
  status,
  waitFor,
} from "../support/fleet.ts";

interface AgentSpec {
  name: string;
  port: number;
  env?: Record<string, string>;
  extra?: string;
}

function fleetYaml(agents: AgentSpec[], restart = "{ delay: 1s, maxDelay: 5s, burst: 5/1m }"): string {
  const rows = agents.map(
    (a) => `  - name: ${a.name}
    command: [${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}]
    port: ${a.port}
    workspace: ./ws/${a.name}
    env: ${JSON.stringify(a.env ?? {})}
    restart: ${restart}
    health: { http: /health, grace: 10s, interval: 200ms, timeout: 1s, failures: 2 }
    stopTimeout: 3s
${a.extra ?? ""}`,
  );
  return `version: 1\nstateDir: ./state\nagents:\n${rows.join("\n")}\n`;
}

async function up(file: string): Promise<void> {
  const result = await runCli(["up", "--detach", "--json", "-c", file]);
  assert.equal(result.code, 0, `up failed: ${result.stderr}`);
}

function events(dir: string, kind: string): Array<{ agent: string; data: string }> {
  const db = new DatabaseSync(join(dir, "state/ledger.db"), { readOnly: true });
  try {
    return db.prepare("SELECT agent, data FROM events WHERE kind = ? ORDER BY id").all(kind) as Array<{
      agent: string;
      data: string;
    }>;
  } finally {
    db.close();
  }
}

/** Events of a kind once at least one is on disk: the ledger writes in batches (every 50 ms). */
function recorded(dir: string, kind: string): Promise<Array<{ agent: string; data: string }>> {
  return waitFor(() => {
    const rows = events(dir, kind);
    return rows.length > 0 && rows;
  }, `a ${kind} event`);
}

const running = (file: string, name: string) => async () => {
  const row = (await status(file)).find((a) => a.name === name);
  return row?.state === "running" ? row : undefined;
};

test("a SIGKILLed agent restarts after its delay with a new pid; no other agent's pid changes", async (t) => {
  const [pa = 0, pb = 0, pc = 0] = await freePorts(3);
  const { file } = fleetDir(
    t,
    fleetYaml([
      { name: "alpha", port: pa },
      { name: "bravo", port: pb },
      { name: "charlie", port: pc },
    ]),
  );
  await up(file);
  const before = await waitFor(async () => {
    const rows = await status(file);
    return rows.every((r) => r.state === "running") ? rows : undefined;
  }, "all three agents running");
  const victim = before.find((r) => r.name === "bravo")?.pid ?? 0;
  const killedAt = Date.now();
  process.kill(victim, "SIGKILL");
  const after = await waitFor(async () => {
    const row = await running(file, "bravo")();
    return row && row.pid !== victim ? row : undefined;
  }, "bravo running again with a new pid");
  const elapsed = Date.now() - killedAt;
  assert.ok(elapsed >= 1000, `restarted after ${elapsed}ms, before the 1s delay`);
  assert.notEqual(after.pid, victim);
  assert.equal(after.restarts, 1);
  assert.equal(pidAlive(victim), false);
  const rows = await status(file);
  for (const name of ["alpha", "charlie"]) {
    assert.equal(
      rows.find((r) => r.name === name)?.pid,
      before.find((r) => r.name === name)?.pid,
      `${name} kept its pid`,
    );
  }
});

test("a crash loop ends in failed after the burst, with an event", async (t) => {
  const [port = 0] = await freePorts(1);
  const { dir, file } = fleetDir(
    t,
    fleetYaml(
      [
        {
          name: "crasher",
          port,
          env: { FLOTILLA_EXAMPLE_FAULT: "crash", FLOTILLA_EXAMPLE_FAULT_AFTER: "100" },
        },
      ],
      "{ delay: 100ms, maxDelay: 200ms, burst: 3/1m }",
    ),
  );
  await up(file);
  const row = await waitFor(
    async () => (await status(file)).find((r) => r.state === "failed"),
    "crasher failed",
  );
  assert.equal(row.pid, null);
  assert.equal(row.restarts, 2, "3 starts in all: the first and two restarts");
  const failed = await recorded(dir, "agent.failed");
  assert.equal(failed.length, 1);
  assert.match(failed[0]?.data ?? "", /"reason":"burst"/);
  const delays = events(dir, "agent.backoff").map((e) => (JSON.parse(e.data) as { delayMs: number }).delayMs);
  assert.deepEqual(delays, [100, 200], "the backoff doubles from delay while the failures go on");
  const started = await runCli(["start", "crasher", "--json", "-c", file]);
  assert.equal(started.code, 0, "an operator can start a failed agent again");
});

for (const isolation of ["sandbox", "none"]) {
  test(`stop and down leave no process of the agent alive, grandchildren in other groups included (isolation: ${isolation})`, async (t) => {
    const [pa = 0, pb = 0] = await freePorts(2);
    const { dir, file } = fleetDir(
      t,
      fleetYaml([
        { name: "parent", port: pa, env: { FLOTILLA_EXAMPLE_CHILDREN: "3" } },
        { name: "other", port: pb, env: { FLOTILLA_EXAMPLE_CHILDREN: "2" } },
      ]).replace("stateDir: ./state\n", `stateDir: ./state\nisolation: ${isolation}\n`),
    );
    await up(file);
    // The agent writes the pids it sees; inside a sandbox those are its own namespace's numbers.
    const readChildren = (name: string, launcher: number) => async () => {
      try {
        const inner = JSON.parse(readFileSync(join(dir, "ws", name, "children.json"), "utf8")) as number[];
        const pids = inner.map((p) => hostPid(p, launcher));
        return pids.length > 0 && pids.every((p) => pidAlive(p)) ? pids : undefined;
      } catch {
        return undefined;
      }
    };
    const parent = await waitFor(running(file, "parent"), "parent running");
    const children = await waitFor(readChildren("parent", parent.pid ?? 0), "parent's children");
    assert.equal(children.length, 3);
    const stopped = await runCli(["stop", "parent", "--json", "-c", file]);
    assert.equal(stopped.code, 0, stopped.stderr);
    for (const pid of [parent.pid ?? 0, ...children])
      assert.equal(pidAlive(pid), false, `pid ${pid} still alive after stop`);

    const other = await waitFor(running(file, "other"), "other running");
    const otherChildren = await waitFor(readChildren("other", other.pid ?? 0), "other's children");
    const down = await runCli(["down", "--json", "-c", file]);
    assert.equal(down.code, 0, down.stderr);
    for (const pid of [other.pid ?? 0, ...otherChildren])
      assert.equal(pidAlive(pid), false, `pid ${pid} still alive after down`);
    assert.deepEqual(findByEnv({ FLOTILLA_INSTANCE: instanceId(join(dir, "state")) }), []);
  });
}

test("stop kills a grandchild that cleared its env and left the process tree (it is still in the group)", async (t) => {
  // The agent starts a middle process that starts the grandchild with an empty env, then exits: the
  // grandchild is re-parented (to pid 1), carries no mark, and only its process group ties it to the agent.
  // Unisolated (or as a user of its own): in a sandbox it would be re-parented inside the sandbox instead.
  const grandchild =
    "require('fs').writeFileSync('grandchild.pid', String(process.pid)); setInterval(() => {}, 1e9)";
  const middle = `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { env: {}, stdio: 'ignore' }).unref(); process.exit(0)`;
  const agent = `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(middle)}], { stdio: 'ignore' }); setInterval(() => {}, 1e9)`;
  const { dir, file } = fleetDir(
    t,
    `version: 1\nstateDir: ./state\nisolation: none\nagents:\n  - { name: leaver, command: ${JSON.stringify([NODE, "-e", agent])}, workspace: ./ws, stopTimeout: 3s }\n`,
  );
  await up(file);
  const row = await waitFor(running(file, "leaver"), "leaver running");
  const pidFile = join(dir, "ws", "grandchild.pid");
  const orphan = await waitFor(() => {
    try {
      const pid = Number(readFileSync(pidFile, "utf8"));
      return pid > 0 && pidAlive(pid) && readProc(pid)?.ppid !== row.pid ? pid : undefined;
    } catch {
      return undefined;
    }
  }, "the grandchild, re-parented away from the agent");
  t.after(() => {
    if (pidAlive(orphan)) process.kill(orphan, "SIGKILL");
  });
  assert.equal(readProc(orphan)?.pgid, row.pid, "still in the agent's process group");
  assert.equal(readFileSync(`/proc/${orphan}/environ`, "utf8"), "", "it carries no env mark");
  const stopped = await runCli(["stop", "leaver", "-c", file]);
  assert.equal(stopped.code, 0, stopped.stderr);
  await waitFor(() => !pidAlive(orphan), "the grandchild gone after stop", 5000);
});

test("orphan clean-up spares a live process whose pid matches an old record but whose start time does not", async (t) => {
  const bystander = spawn(NODE, ["-e", "setInterval(() => {}, 1e9)"], { detached: true, stdio: "ignore" });
  t.after(() => bystander.kill("SIGKILL"));
  const pid = bystander.pid ?? 0;
  const info = await waitFor(() => readProc(pid), "the bystander's /proc entry");
  const { dir, file } = fleetDir(t, fleetYaml([{ name: "solo", port: (await freePorts(1))[0] ?? 0 }]));
  // A record left by an earlier daemon: the same pid (reused since), a different start time.
  mkdirSync(join(dir, "state", "run"), { recursive: true, mode: 0o700 });
  writeFileSync(
    join(dir, "state", "run", "agents.json"),
    JSON.stringify([{ name: "solo", pid, pgid: info.pgid, startTime: info.startTime - 100 }]),
  );
  await up(file);
  await waitFor(running(file, "solo"), "solo running");
  assert.equal(pidAlive(pid), true, "an unrelated process whose pid matches an old record was killed");
  const down = await runCli(["down", "-c", file]);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(pidAlive(pid), true, "down spared it too");
});

test("an agent that ignores SIGTERM is SIGKILLed after stopTimeout", async (t) => {
  const [port = 0] = await freePorts(1);
  const { dir, file } = fleetDir(
    t,
    fleetYaml([{ name: "stubborn", port, env: { FLOTILLA_EXAMPLE_FAULT: "ignore-term" } }]),
  );
  await up(file);
  const row = await waitFor(running(file, "stubborn"), "stubborn running");
  const started = Date.now();
  const stopped = await runCli(["stop", "stubborn", "-c", file]);
  const elapsed = Date.now() - started;
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(elapsed >= 3000, `stop took ${elapsed}ms; SIGKILL must wait for the 3s stopTimeout`);
  assert.equal(pidAlive(row.pid ?? 0), false);
  assert.equal((await recorded(dir, "agent.killed")).length, 1);
});

test("after kill -9 of the daemon, up again gives exactly one copy of each agent", async (t) => {
  const [pa = 0, pb = 0] = await freePorts(2);
  const { dir, file } = fleetDir(
    t,
    fleetYaml([
      { name: "one", port: pa, env: { FLOTILLA_EXAMPLE_CHILDREN: "1" } },
      { name: "two", port: pb },
    ]),
  );
  await up(file);
  const first = await waitFor(async () => {
    const rows = await status(file);
    return rows.every((r) => r.state === "running") ? rows : undefined;
  }, "both running");
  const daemon = JSON.parse(readFileSync(join(dir, "state/daemon.json"), "utf8")) as { pid: number };
  process.kill(daemon.pid, "SIGKILL");
  await waitFor(() => !pidAlive(daemon.pid), "daemon gone");
  assert.ok(
    first.every((r) => pidAlive(r.pid ?? 0)),
    "agents outlive their daemon until the next up",
  );
  await up(file);
  const second = await waitFor(async () => {
    const rows = await status(file);
    return rows.every((r) => r.state === "running") ? rows : undefined;
  }, "both running again");
  for (const old of first)
    assert.equal(pidAlive(old.pid ?? 0), false, `old ${old.name} pid ${old.pid} was cleaned up`);
  const instance = instanceId(join(dir, "state"));
  for (const row of second) {
    // The agent itself, not the sandbox's launcher (bwrap carries the same command line).
    const copies = findByEnv({ FLOTILLA_INSTANCE: instance, FLOTILLA_AGENT_NAME: row.name }).filter((p) => {
      const argv = readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0");
      return argv[0] !== "bwrap" && argv.includes(EXAMPLE_AGENT);
    });
    assert.equal(copies.length, 1, `${row.name}: ${copies.length} copies`);
  }
  assert.equal((await recorded(dir, "daemon.orphans_cleaned")).length, 1);
});

test("an agent that is up but unhealthy past its grace period is restarted", async (t) => {
  const [port = 0] = await freePorts(1);
  const { dir, file } = fleetDir(
    t,
    fleetYaml(
      [{ name: "sick", port, env: { FLOTILLA_EXAMPLE_FAULT: "unhealthy" } }],
      "{ delay: 100ms, maxDelay: 200ms, burst: 10/1m }",
    ).replace("grace: 10s", "grace: 1s"),
  );
  await up(file);
  await waitFor(
    () => events(dir, "agent.unhealthy").length >= 1 && events(dir, "agent.restarted").length >= 1,
    "a health restart",
    10_000,
  );
  const row = (await status(file))[0];
  assert.equal(row?.health.ok, false);
});
