/**
 * The adversarial set: several hundred model proposals generated from families of attacks (destruction,
 * shells with every connector, network fetches, permission changes, /etc edits, file writers, env and
 * config overrides, traversal, real symlinks out of the state dir, huge lists, unknown subcommands,
 * malformed argv), each judged and then passed down the runner path the watchdog uses. Every payload that
 * could run would create the marker or delete a file outside the state dir; the test proves none did, and
 * that the allowed actions mixed in (a stale pid file's removal) did run. Actions run unsandboxed here, so
 * the policy alone is what stops them.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { judgeProposal, type PolicyContext } from "../../src/watchdog/policy/fix-policy.ts";
import { runAllowed } from "../../src/watchdog/policy/run-allowed.ts";
import type { RunOptions } from "../../src/watchdog/policy/run-action.ts";
import type { ActionRun, PolicyDecision } from "../../src/watchdog/types.ts";
import { generate, type Paths } from "../support/adversarial.ts";
import { FLEETS_DIR } from "../support/fleet.ts";

test("300+ generated hostile proposals: 0 commands outside the policy ran, the allowed ones did", async (t) => {
  const dir = mkdtempSync(join(FLEETS_DIR, "adversarial-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const state = join(dir, "state");
  const outside = join(dir, "outside");
  mkdirSync(join(state, "run"), { recursive: true });
  mkdirSync(outside);
  const p: Paths = {
    state,
    outside,
    marker: join(outside, "MARKER"),
    victim: join(outside, "victim.txt"),
    victimPid: join(outside, "victim.pid"),
  };
  writeFileSync(p.victim, "victim\n");
  writeFileSync(p.victimPid, "1\n");
  symlinkSync(p.victimPid, join(state, "escape.pid"));
  symlinkSync(p.victim, join(state, "run/escape.lock"));
  symlinkSync(outside, join(state, "dirlink"));
  for (let i = 0; i < 1000; i++) writeFileSync(join(state, `run/huge-${i}.pid`), "1\n");
  writeFileSync(join(dir, "flotilla.yaml"), "version: 1\n");
  const hosts = existsSync("/etc/hosts")
    ? createHash("sha256").update(readFileSync("/etc/hosts")).digest("hex")
    : "";
  const victimMode = statSync(p.victim).mode;
  const ctx: PolicyContext = {
    stateDir: state,
    configFile: join(dir, "flotilla.yaml"),
    agents: ["coder"],
    units: ["flotilla.service", "flotilla-agent@coder.service"],
    backups: ["last-known-good"],
    extras: [],
    maxActions: 5,
  };
  const options: RunOptions = {
    timeoutMs: 10_000,
    isolation: "none",
    stateDir: state,
    configFile: ctx.configFile,
    env: {},
  };
  const hostile = generate(p, state);
  // Half the single-action proposals also carry an allowed action: a fresh stale pid file to remove.
  let stale = 0;
  const proposals = hostile.map((actions, index) => {
    if (actions.length !== 1 || index % 2 === 1) return { actions, stale: undefined };
    const file = join(state, `run/stale-${stale++}.pid`);
    writeFileSync(file, "4242\n");
    return { actions: [["rm", "-f", file], ...actions], stale: file };
  });
  assert.ok(proposals.length >= 300, `${proposals.length} proposals`);

  let refused = 0;
  const runs: ActionRun[] = [];
  const allowed: PolicyDecision[] = [];
  for (const proposal of proposals) {
    const decisions = judgeProposal(proposal.actions, ctx);
    assert.equal(decisions.length, Math.max(1, proposal.actions.length));
    refused += decisions.filter((d) => !d.allowed).length;
    for (const d of decisions) if (d.allowed) allowed.push(d);
    runs.push(...(await runAllowed(decisions, ctx, options)));
    if (proposal.stale) assert.ok(!existsSync(proposal.stale), `${proposal.stale} was not removed`);
  }

  // Only the mixed-in removals were allowed, and only they ran.
  assert.equal(allowed.length, stale);
  for (const d of allowed) assert.ok(d.allowed && d.rule === "rm stale lock/pid file", JSON.stringify(d));
  assert.equal(runs.length, stale);
  for (const run of runs) {
    assert.equal(run.exitCode, 0, run.output);
    assert.match(run.argv.at(-1) ?? "", /\/run\/stale-\d+\.pid$/);
  }
  const outsidePolicy = runs.filter((run) => !/\/run\/stale-\d+\.pid$/.test(run.argv.at(-1) ?? ""));
  assert.equal(outsidePolicy.length, 0);
  assert.ok(refused >= 300, `${refused} refusals`);

  // Nothing a payload would have done happened.
  assert.ok(!existsSync(p.marker), "the marker exists: a payload ran");
  assert.equal(readFileSync(p.victim, "utf8"), "victim\n");
  assert.equal(statSync(p.victim).mode, victimMode);
  assert.ok(existsSync(p.victimPid), "the symlinked pid file outside the state dir was deleted");
  assert.ok(existsSync(join(state, "escape.pid")) && existsSync(join(state, "dirlink")));
  assert.ok(existsSync(join(state, "run/huge-0.pid")) && existsSync(join(state, "run/huge-999.pid")));
  if (hosts) assert.equal(createHash("sha256").update(readFileSync("/etc/hosts")).digest("hex"), hosts);
  t.diagnostic(
    `${proposals.length} proposals, ${refused} refused actions, ${runs.length} allowed runs, 0 outside policy`,
  );
});
