/** The fix policy rule by rule: what each allows, what it refuses and the reason it gives. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { commandFor, judgeProposal, type PolicyContext } from "../../src/watchdog/policy/fix-policy.ts";
import { policyContext } from "../../src/watchdog/policy/policy-context.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { PolicyDecision } from "../../src/watchdog/types.ts";

/** A temp fleet folder: state dir with a stale pid file, a lock, a backup's config copy, and files outside. */
function setup(t: TestContext): { dir: string; ctx: PolicyContext } {
  const dir = mkdtempSync(join(tmpdir(), "fix-policy-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const state = join(dir, "state");
  mkdirSync(join(state, "run"), { recursive: true });
  mkdirSync(join(state, "backups/20261207T000000000Z/files"), { recursive: true });
  writeFileSync(join(state, "run/agent.pid"), "123\n");
  writeFileSync(join(state, "watchdog.lock"), "");
  writeFileSync(join(state, "daemon.json"), "{}");
  writeFileSync(join(state, "backups/20261207T000000000Z/files/000-config"), "version: 1\n");
  writeFileSync(join(state, "backups/20261207T000000000Z/manifest.json"), "{}");
  writeFileSync(join(dir, "outside.pid"), "1\n");
  writeFileSync(join(dir, "config-copy"), "version: 1\n");
  const ctx: PolicyContext = {
    stateDir: state,
    configFile: join(dir, "flotilla.yaml"),
    agents: ["coder", "reviewer", "gateway"],
    units: ["flotilla.service", "flotilla-agent@coder.service"],
    backups: ["20261207T000000000Z", "last-known-good"],
    extras: [{ program: "/usr/local/bin/fleet-fix", args: ["--agent", "coder|reviewer"] }],
    maxActions: 3,
  };
  return { dir, ctx };
}

function one(argv: unknown, ctx: PolicyContext): PolicyDecision {
  const [decision] = judgeProposal([argv], ctx);
  assert.ok(decision);
  return decision;
}

function allowed(argv: unknown, ctx: PolicyContext, rule: RegExp): PolicyDecision {
  const decision = one(argv, ctx);
  assert.equal(decision.allowed, true, JSON.stringify(decision));
  if (decision.allowed) assert.match(decision.rule, rule);
  return decision;
}

function refused(argv: unknown, ctx: PolicyContext, reason: RegExp): void {
  const decision = one(argv, ctx);
  assert.equal(decision.allowed, false, `${JSON.stringify(argv)} was allowed`);
  if (!decision.allowed) assert.match(decision.reason, reason);
}

test("flotilla start and restart: known agents only, --yes for restart only", (t) => {
  const { ctx } = setup(t);
  allowed(["flotilla", "restart", "coder"], ctx, /flotilla restart AGENT/);
  allowed(["flotilla", "restart", "coder", "gateway", "--yes"], ctx, /restart/);
  allowed(["flotilla", "start", "reviewer"], ctx, /flotilla start AGENT/);
  refused(["flotilla", "start", "coder", "--yes"], ctx, /option "--yes" is not allowed/);
  refused(["flotilla", "restart", "ghost"], ctx, /unknown agent "ghost"/);
  refused(["flotilla", "restart"], ctx, /name at least one agent/);
  refused(["flotilla", "restart", "--all"], ctx, /option "--all" is not allowed/);
  refused(["flotilla", "restart", "coder", "--yes", "--yes"], ctx, /--yes given twice/);
  refused(["flotilla", "restart", "coder", "--json"], ctx, /option "--json"/);
  refused(["flotilla", "down"], ctx, /"down" is not an allowed subcommand/);
  refused(["flotilla", "up"], ctx, /"up" is not an allowed subcommand/);
  refused(["flotilla", "key", "rotate", "coder"], ctx, /"key" is not an allowed subcommand/);
  refused(["flotilla", "stop", "coder"], ctx, /"stop" is not an allowed subcommand/);
  refused(["flotilla"], ctx, /"" is not an allowed subcommand/);
});

test("flotilla restore: a listed backup or last-known-good, with --yes", (t) => {
  const { ctx } = setup(t);
  allowed(["flotilla", "restore", "20261207T000000000Z", "--yes"], ctx, /restore BACKUP/);
  allowed(["flotilla", "restore", "last-known-good", "--yes"], ctx, /restore BACKUP/);
  refused(["flotilla", "restore", "20991231T000000000Z", "--yes"], ctx, /no backup "20991231T000000000Z"/);
  refused(["flotilla", "restore", "last-known-good"], ctx, /only `flotilla restore ID --yes`/);
  refused(["flotilla", "restore", "--yes", "last-known-good"], ctx, /only `flotilla restore ID --yes`/);
  refused(["flotilla", "restore", "last-known-good", "--yes", "x"], ctx, /only `flotilla restore ID --yes`/);
});

test("flotilla config apply: only a backup's config copy, resolved through symlinks", (t) => {
  const { dir, ctx } = setup(t);
  const copy = join(ctx.stateDir, "backups/20261207T000000000Z/files/000-config");
  const decision = allowed(["flotilla", "config", "apply", copy, "--yes"], ctx, /config apply BACKUP-COPY/);
  assert.deepEqual(decision.argv, ["flotilla", "config", "apply", copy, "--yes"]);
  refused(
    ["flotilla", "config", "apply", join(dir, "config-copy"), "--yes"],
    ctx,
    /outside the backups folder/,
  );
  refused(["flotilla", "config", "apply", copy], ctx, /only `flotilla config apply FILE --yes`/);
  refused(["flotilla", "config", "diff", copy], ctx, /only config apply/);
  refused(
    ["flotilla", "config", "apply", join(ctx.stateDir, "backups/20261207T000000000Z/manifest.json"), "--yes"],
    ctx,
    /not a backup's config copy/,
  );
  symlinkSync(join(dir, "config-copy"), join(ctx.stateDir, "backups/20261207T000000000Z/files/001-config"));
  refused(
    [
      "flotilla",
      "config",
      "apply",
      join(ctx.stateDir, "backups/20261207T000000000Z/files/001-config"),
      "--yes",
    ],
    ctx,
    /is a symlink/,
  );
  symlinkSync(dir, join(ctx.stateDir, "backups/escape"));
  refused(
    ["flotilla", "config", "apply", join(ctx.stateDir, "backups/escape/config-copy"), "--yes"],
    ctx,
    /outside/,
  );
});

test("systemctl --user: the four verbs on Flotilla's own units only", (t) => {
  const { ctx } = setup(t);
  for (const verb of ["start", "restart", "stop", "reset-failed"])
    allowed(["systemctl", "--user", verb, "flotilla.service"], ctx, new RegExp(`systemctl --user ${verb}`));
  allowed(["systemctl", "--user", "restart", "flotilla-agent@coder.service"], ctx, /systemctl/);
  refused(["systemctl", "restart", "flotilla.service"], ctx, /only `systemctl --user VERB UNIT`/);
  refused(["systemctl", "--user", "enable", "flotilla.service"], ctx, /verb "enable" is not allowed/);
  refused(
    ["systemctl", "--user", "restart", "ssh.service"],
    ctx,
    /"ssh.service" is not one of Flotilla's units/,
  );
  refused(["systemctl", "--user", "restart", "flotilla.service", "x.service"], ctx, /only `systemctl --user/);
  refused(["systemctl", "--system", "restart", "flotilla.service"], ctx, /only `systemctl --user/);
});

test("rm: one stale .lock or .pid file inside the state dir, never through a symlink", (t) => {
  const { dir, ctx } = setup(t);
  const pid = join(ctx.stateDir, "run/agent.pid");
  assert.deepEqual(allowed(["rm", pid], ctx, /rm stale/).argv, ["rm", pid]);
  allowed(["rm", "-f", join(ctx.stateDir, "watchdog.lock")], ctx, /rm stale/);
  refused(["rm", "-rf", pid], ctx, /only `rm \[-f\] PATH`/);
  refused(["rm", "-f", "-r", pid], ctx, /only `rm \[-f\] PATH`/);
  refused(["rm", pid, join(ctx.stateDir, "watchdog.lock")], ctx, /only `rm \[-f\] PATH`/);
  refused(["rm", join(ctx.stateDir, "daemon.json")], ctx, /not a .lock or .pid file/);
  refused(["rm", join(ctx.stateDir, "ledger.db")], ctx, /not a .lock or .pid file/);
  refused(["rm", join(dir, "outside.pid")], ctx, /outside the state dir/);
  refused(["rm", "/tmp/x.lock"], ctx, /outside the state dir|folder does not exist|does not exist/);
  refused(["rm", `${ctx.stateDir}/../outside.pid`], ctx, /path traversal/);
  refused(["rm", "run/agent.pid"], ctx, /not an absolute path/);
  refused(["rm", join(ctx.stateDir, "gone.pid")], ctx, /does not exist/);
  symlinkSync(join(dir, "outside.pid"), join(ctx.stateDir, "link.pid"));
  refused(["rm", join(ctx.stateDir, "link.pid")], ctx, /is a symlink/);
  symlinkSync(dir, join(ctx.stateDir, "dirlink"));
  refused(["rm", join(ctx.stateDir, "dirlink/outside.pid")], ctx, /resolves to .* outside the state dir/);
  mkdirSync(join(ctx.stateDir, "folder.lock"));
  refused(["rm", join(ctx.stateDir, "folder.lock")], ctx, /not a regular file/);
});

test("extras: the operator's program, each argument matching its pattern wholly, same count", (t) => {
  const { ctx } = setup(t);
  allowed(["/usr/local/bin/fleet-fix", "--agent", "coder"], ctx, /watchdog.extras\[0\]/);
  refused(["/usr/local/bin/fleet-fix", "--agent", "coderx"], ctx, /match no watchdog.extras entry/);
  refused(["/usr/local/bin/fleet-fix", "--agent"], ctx, /match no watchdog.extras entry/);
  refused(["/usr/local/bin/fleet-fix", "--agent", "coder", "x"], ctx, /match no watchdog.extras entry/);
  refused(["/usr/local/bin/fleet-fix", "--agent", "coder;reboot"], ctx, /shell metacharacter ";"/);
  refused(["fleet-fix", "--agent", "coder"], ctx, /"fleet-fix" is not on the fix policy's allowlist/);
  refused(["/bin/rm", "-f", join(ctx.stateDir, "run/agent.pid")], ctx, /is a path/);
  const broken = { ...ctx, extras: [{ program: "/usr/local/bin/x", args: ["(unclosed"] }] };
  refused(["/usr/local/bin/x", "(unclosed"], broken, /shell metacharacter/);
  refused(["/usr/local/bin/x", "a"], broken, /match no watchdog.extras entry/);
});

test("shape, metacharacters, environment and config overrides are refused with the rule named", (t) => {
  const { ctx } = setup(t);
  refused([], ctx, /empty argv/);
  refused("flotilla restart coder", ctx, /string, not an argv array/);
  refused(null, ctx, /null, not an argv array/);
  refused({ cmd: "x" }, ctx, /object, not an argv array/);
  refused(["flotilla", 1], ctx, /argv\[1\] is number/);
  refused(["flotilla", ["restart"]], ctx, /argv\[1\] is array/);
  refused(["flotilla", "restart", ""], ctx, /argv\[2\] is empty/);
  refused(["flotilla", "restart", "coder\n"], ctx, /control byte \\x0a/);
  refused(["flotilla", "restart", "coder\0"], ctx, /control byte \\x00/);
  for (const char of [..."';|&$`<>(){}*?!~\"\\"])
    refused(["flotilla", "restart", `coder${char}`], ctx, /shell metacharacter/);
  refused(["FOO=1", "flotilla", "restart", "coder"], ctx, /environment override "FOO=1"/);
  refused(["env", "X=1", "flotilla", "restart", "coder"], ctx, /environment override: env/);
  refused(["flotilla", "restart", "coder", "--env", "X=1"], ctx, /environment override: "--env"/);
  refused(["flotilla", "restart", "coder", "-c", "/tmp/evil.yaml"], ctx, /config override: "-c"/);
  refused(["flotilla", "restart", "coder", "--config=/tmp/evil.yaml"], ctx, /config override/);
  refused(["flotilla", "restore", "last-known-good", "--yes", "--state-dir", "/tmp"], ctx, /config override/);
  refused(["sh", "-c", "touch x"], ctx, /shell: "sh"/);
  refused(["curl", "http://example.invalid"], ctx, /network tool: "curl"/);
  refused(["apt-get", "install", "foo"], ctx, /package install: "apt-get"/);
  refused(["chmod", "777", ctx.stateDir], ctx, /permission change: "chmod"/);
  refused(["sudo", "reboot"], ctx, /privilege change: "sudo"/);
  refused(["sort", "-o", "/etc/passwd", "x"], ctx, /file writer: "sort"/);
  refused(["reboot"], ctx, /"reboot" is not on the fix policy's allowlist/);
  refused(["flotilla", ...Array.from({ length: 70 }, () => "coder")], ctx, /at most 64/);
  refused(["flotilla", "restart", "c".repeat(5000)], ctx, /at most 4096/);
});

test("the {argv, why} form of an action is read like a bare argv", (t) => {
  const { ctx } = setup(t);
  allowed({ argv: ["flotilla", "restart", "coder"], why: "it died" }, ctx, /restart/);
  refused({ argv: "flotilla restart coder" }, ctx, /string, not an argv array/);
});

test("more than maxActions actions: every one is refused, even the allowed kind", (t) => {
  const { ctx } = setup(t);
  const actions = Array.from({ length: 4 }, () => ["flotilla", "restart", "coder"]);
  const decisions = judgeProposal(actions, ctx);
  assert.equal(decisions.length, 4);
  for (const d of decisions) {
    assert.equal(d.allowed, false);
    if (!d.allowed) assert.equal(d.reason, "4 actions proposed, at most 3");
    assert.deepEqual(d.argv, ["flotilla", "restart", "coder"]);
  }
  assert.equal(judgeProposal(actions.slice(0, 3), ctx).filter((d) => d.allowed).length, 3);
});

test("a proposal that is not a list is one refusal; hostile objects never make it throw", (t) => {
  const { ctx } = setup(t);
  for (const proposal of [null, undefined, 42, "rm -rf /", { actions: [] }, true]) {
    const decisions = judgeProposal(proposal, ctx);
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0]?.allowed, false);
  }
  const hostile = new Proxy([], {
    get() {
      throw new Error("gotcha");
    },
  });
  const decisions = judgeProposal([hostile], ctx);
  assert.equal(decisions[0]?.allowed, false);
  const getter = {
    get argv(): string[] {
      throw new Error("gotcha");
    },
  };
  assert.equal(judgeProposal([getter], ctx)[0]?.allowed, false);
});

test("fuzz: random JSON-ish input never throws and is deterministic; nothing random is allowed", (t) => {
  const { ctx } = setup(t);
  let seed = 17;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const atoms: unknown[] = [
    null,
    0,
    -1,
    true,
    {},
    [],
    "",
    "flotilla",
    "rm",
    "restart",
    "-f",
    "--yes",
    "\0",
    "..",
    "coder",
  ];
  const value = (depth: number): unknown => {
    const kind = rand(depth > 2 ? 3 : 5);
    if (kind === 0) return atoms[rand(atoms.length)];
    if (kind === 1) return String.fromCharCode(...Array.from({ length: rand(12) }, () => rand(128)));
    if (kind === 2) return `/${["etc", "tmp", ctx.stateDir.slice(1), ".."][rand(4)]}/${rand(99)}.pid`;
    if (kind === 3) return Array.from({ length: rand(6) }, () => value(depth + 1));
    return { argv: value(depth + 1) };
  };
  for (let i = 0; i < 2000; i++) {
    const input = Array.from({ length: rand(5) }, () => value(0));
    const first = judgeProposal(input, ctx);
    assert.deepEqual(judgeProposal(input, ctx), first);
    for (const d of first)
      if (d.allowed) assert.match(d.rule, /flotilla|rm stale/, `random input allowed: ${JSON.stringify(d)}`);
  }
});

test("commandFor: flotilla runs this install with this Node and the live config; others as decided", (t) => {
  const { ctx } = setup(t);
  const decision = allowed(["flotilla", "restart", "coder"], ctx, /restart/);
  assert.ok(decision.allowed);
  const argv = commandFor(decision, ctx);
  assert.equal(argv[0], process.execPath);
  assert.match(argv[1] ?? "", /\/bin\/flotilla\.js$/);
  assert.deepEqual(argv.slice(2), ["restart", "coder", "-c", ctx.configFile]);
  const rm = allowed(["rm", join(ctx.stateDir, "run/agent.pid")], ctx, /rm/);
  assert.ok(rm.allowed);
  assert.deepEqual(commandFor(rm, ctx), ["rm", join(ctx.stateDir, "run/agent.pid")]);
});

test("policyContext: agents plus the gateway, units, backups plus last-known-good, extras", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "fix-policy-ctx-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, "flotilla.yaml"),
    `version: 1
stateDir: ./state
providers:
  - { id: sim, kind: openai, baseUrl: http://127.0.0.1:9/v1, keys: [{ env: SIM_KEY }] }
models:
  main: [{ provider: sim, model: m }]
watchdog:
  maxActions: 2
  extras: [{ program: /usr/local/bin/fix, args: ["a|b"] }]
agents:
  - { name: coder, command: [node, x.js], workspace: ./ws }
`,
  );
  const loaded = loadConfig(join(dir, "flotilla.yaml"));
  const ctx = policyContext(loaded.config, loaded.file);
  assert.deepEqual(ctx.agents, ["coder", "gateway"]);
  assert.deepEqual(ctx.units, ["flotilla.service", "flotilla-agent@coder.service"]);
  assert.deepEqual(ctx.backups, ["last-known-good"]);
  assert.deepEqual(ctx.extras, [{ program: "/usr/local/bin/fix", args: ["a|b"] }]);
  assert.equal(ctx.maxActions, 2);
  assert.equal(ctx.stateDir, join(dir, "state"));
});
