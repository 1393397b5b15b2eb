/**
 * The action runner with real processes: the timeout kills the whole group, output is capped and redacted,
 * exit codes come back, the environment is clean; in sandbox mode other paths are hidden and a real fleet's
 * daemon still answers an allowed `flotilla restart` over loopback.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { sandboxProblem } from "../../src/isolation/probe.ts";
import { commandFor, judgeProposal } from "../../src/watchdog/policy/fix-policy.ts";
import { policyContext } from "../../src/watchdog/policy/policy-context.ts";
import { runAllowed } from "../../src/watchdog/policy/run-allowed.ts";
import {
  actionHiddenPaths,
  actionIsolation,
  type RunOptions,
  runAction,
} from "../../src/watchdog/policy/run-action.ts";
import {
  allRunning,
  EXAMPLE_AGENT,
  FLEETS_DIR,
  fleetDir,
  freePorts,
  NODE,
  pidAlive,
  runCli,
  status,
  waitFor,
} from "../support/fleet.ts";

const noSandbox = sandboxProblem();

/** A scratch fleet folder (not under /tmp: a sandboxed action has its own /tmp). */
function scratch(t: TestContext): { dir: string; options: RunOptions } {
  const dir = mkdtempSync(join(FLEETS_DIR, "run-action-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "state"));
  writeFileSync(join(dir, "flotilla.yaml"), "version: 1\n");
  return {
    dir,
    options: {
      timeoutMs: 20_000,
      isolation: "none",
      stateDir: join(dir, "state"),
      configFile: join(dir, "flotilla.yaml"),
      env: {},
    },
  };
}

test("the timeout kills the whole group: the action and the sleeper it forked are both gone", async (t) => {
  const { dir, options } = scratch(t);
  const pids = join(dir, "pids");
  const code = `const { spawn } = require("node:child_process");
const s = spawn(process.execPath, ["-e", "setInterval(() => {}, 1e9)"], { stdio: "ignore" });
require("node:fs").writeFileSync(${JSON.stringify(pids)}, process.pid + " " + s.pid);
console.log("forked"); setInterval(() => {}, 1e9);`;
  const run = await runAction([NODE, "-e", code], "model", { ...options, timeoutMs: 1500 });
  assert.equal(run.timedOut, true);
  assert.equal(run.exitCode, null);
  assert.equal(run.origin, "model");
  assert.match(run.output, /forked/);
  const [parent = 0, sleeper = 0] = readFileSync(pids, "utf8").split(" ").map(Number);
  assert.ok(parent > 0 && sleeper > 0);
  await waitFor(() => !pidAlive(parent) && !pidAlive(sleeper), "the action and its sleeper gone");
});

test("a finished action's stragglers are killed too, and its exit code comes back", async (t) => {
  const { dir, options } = scratch(t);
  const pidFile = join(dir, "straggler");
  const code = `const { spawn } = require("node:child_process");
const s = spawn(process.execPath, ["-e", "setInterval(() => {}, 1e9)"], { stdio: "inherit" });
require("node:fs").writeFileSync(${JSON.stringify(pidFile)}, String(s.pid)); console.error("to stderr"); process.exit(3);`;
  const run = await runAction([NODE, "-e", code], "deterministic", options);
  assert.equal(run.exitCode, 3);
  assert.equal(run.timedOut, false);
  assert.equal(run.output, "to stderr");
  const straggler = Number(readFileSync(pidFile, "utf8"));
  await waitFor(() => !pidAlive(straggler), "the straggler gone");
  assert.equal((await runAction([NODE, "-e", "0"], "model", options)).exitCode, 0);
  const missing = await runAction(["no-such-program-here"], "model", options);
  assert.equal(missing.exitCode, 127);
  assert.match(missing.output, /could not start no-such-program-here/);
});

test("output: the last 40 lines of the last 64 KB, redacted, no half line from the cut", async (t) => {
  const { options } = scratch(t);
  const secret = "sk-PLANTED-abcdef123456";
  const code = `process.stdout.write("${secret}".padEnd(100000, "x") + "\\n");
for (let i = 1; i <= 100; i++) process.stdout.write("line " + i + " key=${secret}\\n");`;
  const run = await runAction([NODE, "-e", code], "model", {
    ...options,
    redact: (text) => text.replaceAll(secret, "<secret>"),
  });
  const lines = run.output.split("\n");
  assert.equal(lines.length, 40);
  assert.equal(lines.at(-1), "line 100 key=<secret>");
  assert.equal(lines[0], "line 61 key=<secret>");
  assert.ok(!run.output.includes("sk-PLANTED"));
  const long = await runAction(
    [NODE, "-e", `process.stdout.write("${secret}" + "y".repeat(200000))`],
    "model",
    {
      ...options,
      redact: (text) => text.replaceAll(secret, "<secret>"),
    },
  );
  assert.ok(long.output.length <= 64 * 1024);
  assert.ok(!long.output.includes("PLANTED"));
});

test("a clean environment: PATH, HOME, LANG and what env gives, nothing else; no stdin", async (t) => {
  const { options } = scratch(t);
  process.env.WATCHDOG_TEST_LEAK = "leaked";
  t.after(() => delete process.env.WATCHDOG_TEST_LEAK);
  const run = await runAction(
    [
      NODE,
      "-e",
      "console.log(JSON.stringify(Object.keys(process.env).sort())); console.log(require('node:fs').readFileSync(0, 'utf8').length)",
    ],
    "model",
    { ...options, env: { GIVEN: "1" } },
  );
  assert.equal(run.exitCode, 0, run.output);
  const [keys = "", stdin = ""] = run.output.split("\n");
  const names = JSON.parse(keys) as string[];
  assert.ok(names.includes("GIVEN") && names.includes("PATH"));
  assert.ok(!names.includes("WATCHDOG_TEST_LEAK"));
  assert.ok(
    names.every((n) => ["GIVEN", "PATH", "HOME", "LANG"].includes(n)),
    keys,
  );
  assert.equal(stdin, "0");
});

test(
  "sandbox: other paths hidden, /tmp private, the state dir and config folder writable",
  { skip: noSandbox ?? false },
  async (t) => {
    const { dir, options } = scratch(t);
    mkdirSync(join(dir, "ws/coder"), { recursive: true });
    writeFileSync(join(dir, "ws/coder/notes.txt"), "private notes\n");
    writeFileSync(join(dir, "provider.key"), "sk-file-secret\n");
    const sandboxed: RunOptions = {
      ...options,
      isolation: "sandbox",
      hide: [join(dir, "ws/coder"), join(dir, "provider.key")],
    };
    const read = (file: string) =>
      `try { process.stdout.write(JSON.stringify(require("node:fs").readFileSync(${JSON.stringify(file)}, "utf8"))) } catch (e) { process.stdout.write(e.code) }`;
    const notes = await runAction([NODE, "-e", read(join(dir, "ws/coder/notes.txt"))], "model", sandboxed);
    assert.equal(notes.output, "ENOENT");
    const key = await runAction([NODE, "-e", read(join(dir, "provider.key"))], "model", sandboxed);
    assert.ok(["EACCES", '""'].includes(key.output), `the secret file read in the sandbox: ${key.output}`);
    const unsandboxed = await runAction(
      [NODE, "-e", read(join(dir, "ws/coder/notes.txt"))],
      "model",
      options,
    );
    assert.equal(unsandboxed.output, '"private notes\\n"');
    writeFileSync("/tmp/run-action-host-marker", "host");
    t.after(() => rmSync("/tmp/run-action-host-marker", { force: true }));
    const tmp = await runAction([NODE, "-e", read("/tmp/run-action-host-marker")], "model", sandboxed);
    assert.equal(tmp.output, "ENOENT");
    const write = `const fs = require("node:fs"); fs.writeFileSync(${JSON.stringify(join(dir, "state/x.pid"))}, "1"); fs.writeFileSync(${JSON.stringify(join(dir, "flotilla.yaml.new"))}, "1");
try { fs.writeFileSync("/etc/run-action-marker", "1"); console.log("etc written") } catch (e) { console.log(e.code) }`;
    const wrote = await runAction([NODE, "-e", write], "model", sandboxed);
    assert.equal(wrote.exitCode, 0, wrote.output);
    assert.equal(wrote.output, "EROFS");
    assert.equal(readFileSync(join(dir, "state/x.pid"), "utf8"), "1");
    assert.equal(readFileSync(join(dir, "flotilla.yaml.new"), "utf8"), "1");
    const sleeper = spawn(NODE, ["-e", "setInterval(() => {}, 1e9)"], { stdio: "ignore" });
    t.after(() => sleeper.kill("SIGKILL"));
    const signal = await runAction(
      [
        NODE,
        "-e",
        `try { process.kill(${sleeper.pid}, "SIGKILL"); console.log("killed") } catch (e) { console.log(e.code) }`,
      ],
      "model",
      sandboxed,
    );
    assert.equal(signal.output, "ESRCH", "a sandboxed action signalled a process outside its PID namespace");
    assert.ok(pidAlive(sleeper.pid ?? 0));
    const slow = await runAction([NODE, "-e", "setInterval(() => {}, 1e9)"], "model", {
      ...sandboxed,
      timeoutMs: 1000,
    });
    assert.equal(slow.timedOut, true);
  },
);

test(
  "a real fleet: an allowed `flotilla restart` runs sandboxed and reaches the daemon over loopback",
  { skip: noSandbox ?? false },
  async (t) => {
    const [coderPort = 0, otherPort = 0] = await freePorts(2);
    const agent = (name: string, port: number) => `  - name: ${name}
    command: [${JSON.stringify(NODE)}, ${JSON.stringify(EXAMPLE_AGENT)}]
    port: ${port}
    workspace: ./ws/${name}
    health: { http: /health, grace: 10s, interval: 200ms, timeout: 1s, failures: 2 }
    stopTimeout: 3s
`;
    const { dir, file } = fleetDir(
      t,
      `version: 1\nstateDir: ./state\nagents:\n${agent("coder", coderPort)}${agent("other", otherPort)}`,
    );
    const up = await runCli(["up", "--detach", "-c", file]);
    assert.equal(up.code, 0, up.stderr);
    const before = await allRunning(file);
    const coderPid = before.find((r) => r.name === "coder")?.pid;
    writeFileSync(join(dir, "ws/other/secret-notes.txt"), "other's notes\n");
    const loaded = loadConfig(file);
    assert.equal(actionIsolation(loaded.config), "sandbox");
    const ctx = policyContext(loaded.config, loaded.file);
    const [decision] = judgeProposal([["flotilla", "restart", "coder"]], ctx);
    assert.ok(decision?.allowed, JSON.stringify(decision));
    const options: RunOptions = {
      timeoutMs: 60_000,
      isolation: actionIsolation(loaded.config),
      stateDir: loaded.config.stateDir,
      configFile: loaded.file,
      env: {},
      hide: actionHiddenPaths(loaded.config, loaded.file),
    };
    const run = await runAction(commandFor(decision, ctx), "model", options);
    assert.equal(run.exitCode, 0, run.output);
    assert.match(run.output, /coder/);
    await waitFor(async () => {
      const row = (await status(file)).find((r) => r.name === "coder");
      return row?.state === "running" && row.pid !== coderPid;
    }, "coder restarted with a new pid");
    const peek = await runAction(
      [
        NODE,
        "-e",
        `try { console.log(require("node:fs").readFileSync(${JSON.stringify(join(dir, "ws/other/secret-notes.txt"))}, "utf8")) } catch (e) { console.log(e.code) }`,
      ],
      "model",
      options,
    );
    assert.equal(peek.output, "ENOENT");
  },
);

test("runAllowed: only allowed decisions run, in order; a failed one does not stop the next", async (t) => {
  const { dir, options } = scratch(t);
  const ctx = {
    stateDir: options.stateDir,
    configFile: options.configFile,
    agents: [],
    units: [],
    backups: [],
    extras: [],
    maxActions: 5,
  };
  for (const name of ["a.pid", "b.pid", "c.pid"]) writeFileSync(join(dir, "state", name), "1\n");
  const decisions = judgeProposal(
    [
      ["touch", join(dir, "MARKER")],
      ["rm", join(dir, "state/a.pid")],
      ["rm", join(dir, "state/b.pid")],
      ["rm", join(dir, "state/c.pid")],
    ],
    ctx,
  );
  assert.deepEqual(
    decisions.map((d) => d.allowed),
    [false, true, true, true],
  );
  rmSync(join(dir, "state/b.pid"));
  const runs = await runAllowed(decisions, ctx, options);
  assert.deepEqual(
    runs.map((r) => [r.argv.at(-1), r.exitCode === 0, r.origin]),
    [
      [join(dir, "state/a.pid"), true, "model"],
      [join(dir, "state/b.pid"), false, "model"],
      [join(dir, "state/c.pid"), true, "model"],
    ],
  );
  assert.ok(!existsSync(join(dir, "MARKER")) && !existsSync(join(dir, "state/c.pid")));
});
