/** Generated systemd units carry the right settings and pass systemd-analyze verify; install writes them and says what to run. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { COMMANDS } from "../../src/cli/commands.ts";
import { quoteArg } from "../../src/systemd/units.ts";
import { fleetDir, runCli } from "../support/fleet.ts";

const CONFIG = `version: 1
watchdog: { every: 2m }
agents:
  - { name: coder, command: "sleep 100", workspace: ./ws/coder, stopTimeout: 40s, limits: { memory: 512M, cpu: 0.5, files: 2048 } }
  - { name: qa, command: "sleep 100", workspace: ./ws/qa }
`;

function verify(files: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) =>
    execFile("systemd-analyze", ["verify", ...files], (err, stdout, stderr) =>
      resolve({ ok: !err, output: `${stdout}${stderr}` }),
    ),
  );
}

function hasSystemdAnalyze(): Promise<boolean> {
  return new Promise((resolve) => execFile("systemd-analyze", ["--version"], (err) => resolve(!err)));
}

test("generate writes the daemon and per-agent units, and they verify", async (t) => {
  const { dir, file } = fleetDir(t, CONFIG);
  const out = join(dir, "units");
  const result = await runCli(["systemd", "generate", "--out", out, "--json", "-c", file]);
  assert.equal(result.code, 0, result.stderr);
  const files = (JSON.parse(result.stdout) as { files: string[] }).files;
  assert.deepEqual(
    files.map((f) => f.slice(out.length + 1)),
    [
      "flotilla.service",
      "flotilla-agent@.service",
      "flotilla-watchdog.service",
      "flotilla-watchdog.timer",
      "flotilla-agent@coder.service.d/isolation.conf",
      "flotilla-agent@coder.service.d/limits.conf",
      "flotilla-agent@qa.service.d/isolation.conf",
    ],
  );
  const daemon = readFileSync(join(out, "flotilla.service"), "utf8");
  for (const line of [
    "Restart=on-failure",
    "RestartSec=5s",
    "StartLimitBurst=5",
    "KillMode=control-group",
    "TimeoutStopSec=55s",
  ]) {
    assert.ok(daemon.includes(`\n${line}\n`), `flotilla.service lacks ${line}`);
  }
  assert.match(
    daemon,
    new RegExp(`ExecStart=\\S+node \\S+bin/flotilla\\.js up --config ${file} --no-watchdog\n`),
    "under systemd the timer runs the watchdog, not the daemon",
  );
  // No unit runs a command that does not exist (yet): every ExecStart names a command of this CLI.
  const commands = new Set(COMMANDS.map((c) => c.name));
  for (const name of ["flotilla.service", "flotilla-agent@.service", "flotilla-watchdog.service"]) {
    const exec = /^ExecStart=\S+ \S+bin\/flotilla\.js (\S+)/m.exec(readFileSync(join(out, name), "utf8"));
    assert.ok(exec?.[1] && commands.has(exec[1]), `${name} runs flotilla ${exec?.[1]}, which is no command`);
  }
  assert.ok(daemon.includes("\nDelegate=yes\n"), "cgroup limits work under the daemon's unit");
  const watchdog = readFileSync(join(out, "flotilla-watchdog.service"), "utf8");
  assert.match(watchdog, /\nType=oneshot\n/);
  assert.match(watchdog, /\nKillMode=process\n/, "a daemon it starts again outlives the run");
  assert.match(
    watchdog,
    new RegExp(
      `\nExecStart=\\S+node \\S+flotilla\\.js watchdog --once --config ${file} --state-dir ${join(dir, ".flotilla")}\n`,
    ),
  );
  const timer = readFileSync(join(out, "flotilla-watchdog.timer"), "utf8");
  for (const line of ["OnUnitActiveSec=120s", "Unit=flotilla-watchdog.service", "WantedBy=timers.target"])
    assert.ok(timer.includes(`\n${line}\n`), `the watchdog timer lacks ${line}`);
  const template = readFileSync(join(out, "flotilla-agent@.service"), "utf8");
  assert.match(template, /\nExecStartPre=\+\S+node \S+flotilla\.js run-agent %i --prepare --config /);
  assert.match(template, /\nExecStart=\S+node \S+flotilla\.js run-agent %i --prepared --config /);
  for (const line of [
    "RuntimeDirectory=flotilla-agent-%i",
    "RuntimeDirectoryMode=0700",
    "NoNewPrivileges=yes",
    "PrivateTmp=yes",
    "ProtectProc=invisible",
    `InaccessiblePaths=-${join(dir, ".flotilla")}`,
  ])
    assert.ok(template.includes(`\n${line}\n`), `the agent template lacks ${line}`);
  assert.equal(
    readFileSync(join(out, "flotilla-agent@coder.service.d/isolation.conf"), "utf8")
      .split("\n")
      .slice(1)
      .join("\n"),
    `# isolation: sandbox\n[Service]\nProtectSystem=strict\nProtectHome=read-only\nReadWritePaths=${join(dir, "ws/coder")}\nInaccessiblePaths=-${join(dir, "ws/qa")}\n`,
  );
  assert.equal(
    readFileSync(join(out, "flotilla-agent@coder.service.d/limits.conf"), "utf8")
      .split("\n")
      .slice(1)
      .join("\n"),
    "[Service]\nMemoryMax=536870912\nCPUQuota=50%\nLimitNOFILE=2048\n",
  );
  if (!(await hasSystemdAnalyze()))
    return t.skip("systemd-analyze is not installed (Debian package systemd)");
  // A template verifies only as an instance.
  copyFileSync(join(out, "flotilla-agent@.service"), join(out, "flotilla-agent@coder.service"));
  const names = [
    "flotilla.service",
    "flotilla-agent@coder.service",
    "flotilla-watchdog.service",
    "flotilla-watchdog.timer",
  ];
  const verified = await verify(names.map((n) => join(out, n)));
  assert.ok(verified.ok, verified.output);
});

test("install writes into the systemd user folder and prints the commands to run", async (t) => {
  const { dir, file } = fleetDir(t, CONFIG);
  const env = { ...process.env, XDG_CONFIG_HOME: join(dir, "xdg") };
  const result = await runCli(["systemd", "install", "--json", "-c", file], { env });
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout) as { files: string[]; commands: string[] };
  assert.ok(existsSync(join(dir, "xdg/systemd/user/flotilla.service")));
  assert.equal(body.files.length, 7);
  assert.deepEqual(body.commands.slice(0, 3), [
    "systemctl --user daemon-reload",
    "systemctl --user enable --now flotilla.service",
    "systemctl --user enable --now flotilla-watchdog.timer",
  ]);
});

test("an unwritable --out and a missing action are clear errors", async (t) => {
  const { dir, file } = fleetDir(t, CONFIG);
  const bad = await runCli(["systemd", "generate", "--out", join(file, "inside-a-file"), "-c", file]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cannot write unit files \(ENOTDIR\); pick another --out/);
  const usage = await runCli(["systemd", "-c", file]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /say generate or install/);
  assert.ok(existsSync(dir));
});

test("paths with spaces and specifiers are quoted for systemd", () => {
  assert.equal(quoteArg("/usr/bin/node"), "/usr/bin/node");
  assert.equal(quoteArg("/home/a b/flotilla.yaml"), '"/home/a b/flotilla.yaml"');
  assert.equal(quoteArg("/tmp/100%"), '"/tmp/100%%"');
});

test("isolation user gets User= in system units, and is refused in user units with what to run", async (t) => {
  const { dir, file } = fleetDir(
    t,
    `version: 1
agents:
  - { name: coder, command: "sleep 100", workspace: ./ws/coder, isolation: { mode: user, user: builder, group: builders } }
  - { name: qa, command: "sleep 100", workspace: ./ws/qa, isolation: none }
`,
  );
  const refused = await runCli(["systemd", "generate", "--out", join(dir, "u"), "-c", file]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /agent coder: isolation user needs system units .*flotilla systemd generate --system/,
  );
  assert.ok(!existsSync(join(dir, "u")), "nothing was written");
  const out = join(dir, "units");
  const result = await runCli(["systemd", "generate", "--system", "--out", out, "-c", file]);
  assert.equal(result.code, 0, result.stderr);
  const coder = readFileSync(join(out, "flotilla-agent@coder.service.d/isolation.conf"), "utf8");
  assert.match(coder, /\nUser=builder\nGroup=builders\n$/);
  assert.match(coder, new RegExp(`\nInaccessiblePaths=-${join(dir, "ws/qa")}\n`));
  assert.match(
    readFileSync(join(out, "flotilla-agent@qa.service.d/isolation.conf"), "utf8"),
    /# isolation: none: the agent is not isolated\n\[Service\]\nInaccessiblePaths=\nPrivateTmp=no\nProtectProc=default\n/,
  );
  assert.match(readFileSync(join(out, "flotilla.service"), "utf8"), /\nWantedBy=multi-user\.target\n/);
  if (!(await hasSystemdAnalyze()))
    return t.skip("systemd-analyze is not installed (Debian package systemd)");
  for (const name of ["coder", "qa"])
    copyFileSync(join(out, "flotilla-agent@.service"), join(out, `flotilla-agent@${name}.service`));
  const verified = await verify(
    ["flotilla.service", "flotilla-agent@coder.service", "flotilla-agent@qa.service"].map((n) =>
      join(out, n),
    ),
  );
  assert.ok(verified.ok, verified.output);
});
