/** `init` writes configs that validate, never overwrites by accident; config is found via -c, FLOTILLA_CONFIG, ./flotilla.yaml. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findConfigFile } from "../../src/config/load.ts";
import { runCli } from "../support/fleet.ts";

test("init and init --demo write configs that validate; a second init refuses without --force", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-init-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const starter = await runCli(["init"], { cwd: dir });
  assert.equal(starter.code, 0, starter.stderr);
  assert.match(
    readFileSync(join(dir, "flotilla.yaml"), "utf8"),
    /^# flotilla\.yaml: one file for the whole fleet/,
  );
  const validate = await runCli(["validate", "--json"], { cwd: dir });
  assert.deepEqual(JSON.parse(validate.stdout), { ok: true, file: join(dir, "flotilla.yaml"), agents: 2 });
  const again = await runCli(["init"], { cwd: dir });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists; edit it, or pass --force to replace it/);
  const demo = await runCli(["init", "--demo", "-c", "demo.yaml"], { cwd: dir });
  assert.equal(demo.code, 0, demo.stderr);
  const demoValid = await runCli(["validate", "--json", "-c", "demo.yaml"], { cwd: dir });
  assert.equal((JSON.parse(demoValid.stdout) as { agents: number }).agents, 6);
  const schema = await runCli(["schema"], { cwd: dir });
  assert.equal((JSON.parse(schema.stdout) as { type: string }).type, "object");
});

test("the config is found from --config, then FLOTILLA_CONFIG, then ./flotilla.yaml", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-find-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => process.chdir(cwd));
  assert.throws(
    () => findConfigFile(undefined, {}),
    /no config file \(from the current directory\); run "flotilla init"/,
  );
  assert.throws(
    () => findConfigFile(undefined, { FLOTILLA_CONFIG: "/x/env.yaml" }),
    /\/x\/env\.yaml: no config file \(from FLOTILLA_CONFIG\)/,
  );
  assert.throws(
    () => findConfigFile("/x/flag.yaml", { FLOTILLA_CONFIG: "/x/env.yaml" }),
    /\/x\/flag\.yaml: no config file \(from --config\)/,
  );
});
