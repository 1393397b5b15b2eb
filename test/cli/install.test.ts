/**
 * The install path: a global install from the checkout puts `flotilla` on PATH; the bin checks the Node
 * version first, hands an older Node over to the bundled Node 24, or says in one line how to get it; hints
 * name a command that works as printed.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { test } from "node:test";
import { BIN, fleetDir, NODE, ROOT } from "../support/fleet.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A Node older than 24 on this machine (the system's), or undefined. */
function olderNode(): string | undefined {
  for (const candidate of ["/usr/bin/node", "/usr/local/bin/node", "/bin/node"]) {
    try {
      const version = execFileSync(candidate, ["--version"], { encoding: "utf8" }).trim();
      if (Number(/^v(\d+)/.exec(version)?.[1]) < 24) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

const old = olderNode();

test(
  "on an older Node the bin hands over to the bundled Node 24, or says in one line how to get it",
  { skip: old ? false : "no Node older than 24 on this machine to try" },
  async () => {
    const handed = await run(old ?? "", [BIN, "--version"], process.env);
    assert.equal(handed.code, 0, handed.stderr);
    assert.match(handed.stdout, /^flotilla \d+\.\d+\.\d+ \(node v24\./);

    // A copy of the bin with no bundled Node beside it.
    const bare = mkdtempSync(join(tmpdir(), "flotilla-bare-"));
    try {
      mkdirSync(join(bare, "bin"));
      copyFileSync(BIN, join(bare, "bin/flotilla.js"));
      const refused = await run(old ?? "", [join(bare, "bin/flotilla.js"), "status"], process.env);
      assert.equal(refused.code, 1);
      assert.equal(refused.stderr.split("\n").filter(Boolean).length, 1, refused.stderr);
      assert.match(
        refused.stderr,
        /^flotilla: needs Node 24 or newer, but .* is Node 2\d\.[\d.]+; run "npm ci" in .* or install Node 24/,
      );
      assert.ok(!/\n\s+at /.test(refused.stderr), "no stack trace");
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  },
);

test(
  "npm ci on an older Node warns about no engine of our own package",
  { skip: old ? false : "no Node older than 24 on this machine to try" },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-ci-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const file of ["package.json", "package-lock.json"]) copyFileSync(join(ROOT, file), join(dir, file));
    const shell = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    // npm itself on the older Node, as on a machine whose system Node is older.
    const env = { ...shell, PATH: [dirname(old ?? ""), "/usr/bin", "/bin"].join(delimiter) };
    const ci = await run("npm", ["ci", "--dry-run", "--offline", "--no-audit", "--no-fund"], env, dir);
    assert.equal(ci.code, 0, ci.stderr);
    assert.ok(!/package: 'flotilla@/.test(ci.stderr), `no engine warning for flotilla itself:\n${ci.stderr}`);
  },
);

test("npm install -g from the checkout puts flotilla on PATH, and hints name it as it works", async (t) => {
  const prefix = mkdtempSync(join(tmpdir(), "flotilla-prefix-"));
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  // Without npm's own variables (under `npm test` they would send the install to this project's prefix).
  const shell = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const npmEnv = { ...shell, PATH: `${dirname(NODE)}${delimiter}${process.env.PATH ?? ""}` };
  const install = await run(
    "npm",
    ["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", "--loglevel=error", ROOT],
    npmEnv,
  );
  assert.equal(install.code, 0, install.stderr);

  // The operator's PATH: the global bin folder and the system's, with whatever Node the system has.
  const env = {
    ...process.env,
    PATH: `${join(prefix, "bin")}${delimiter}/usr/local/bin${delimiter}/usr/bin${delimiter}/bin`,
  };
  const version = await run("flotilla", ["--version"], env, tmpdir());
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^flotilla \d+\.\d+\.\d+ \(node v24\./);

  const { file } = fleetDir(t, "version: 1\nstateDir: ./state\nagents: []\n");
  const onPath = await run("flotilla", ["status", "-c", file], env, tmpdir());
  assert.match(
    onPath.stdout,
    /no daemon runs; "flotilla up" starts the fleet/,
    "installed: the hint says flotilla",
  );
  const offPath = await run(
    NODE,
    [BIN, "status", "-c", file],
    { ...process.env, PATH: "/usr/bin:/bin" },
    ROOT,
  );
  assert.match(
    offPath.stdout,
    /no daemon runs; "\.\/bin\/flotilla\.js up" starts the fleet/,
    "not installed: the hint names the bin",
  );
});

test("every dependency's install script is reviewed in allowScripts, so npm ci prints no notice", async () => {
  // npm is a Node script: with Node 24 first on PATH it runs as npm ci does here.
  const env = { ...process.env, PATH: `${dirname(NODE)}${delimiter}${process.env.PATH ?? ""}` };
  const listed = await run("npm", ["install-scripts", "ls"], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /No packages with unreviewed install scripts\./);
});
