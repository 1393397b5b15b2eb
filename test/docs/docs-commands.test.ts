/**
 * The docs test: every `sh` block of the README and of docs/getting-started.md runs, in order, as an
 * operator would type it (flotilla installed with `npm install -g .` into a scratch prefix), and succeeds.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { delimiter, join } from "node:path";
import { test } from "node:test";
import { FLEETS_DIR, ROOT } from "../support/fleet.ts";

/**
 * Lines not run, each with its reason: `npm ci` would replace the node_modules this very test runs from
 * (the suite was installed with it, so it has run).
 */
const NOT_RUN = [/^npm ci$/];

function blocks(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
}

function runBlock(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-euo", "pipefail", "-c", script],
      { cwd, env, timeout: 180_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: `${stdout}${stderr}` });
      },
    );
  });
}

for (const file of ["README.md", "docs/getting-started.md"]) {
  test(`every command block of ${file} runs as written`, async (t) => {
    const work = mkdtempSync(join(FLEETS_DIR, "flotilla-docs-"));
    const prefix = mkdtempSync(join(FLEETS_DIR, "flotilla-prefix-"));
    // The operator's shell: npm's global bin folder first, then the system's; no Node 24 of ours on it.
    // Not npm's own variables either: under `npm test` they would point npm at this project's settings.
    const shell = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const env: NodeJS.ProcessEnv = {
      ...shell,
      PATH: [join(prefix, "bin"), "/usr/local/bin", "/usr/bin", "/bin"].join(delimiter),
      NPM_CONFIG_PREFIX: prefix,
      NPM_CONFIG_OFFLINE: "true",
      NPM_CONFIG_AUDIT: "false",
      NPM_CONFIG_FUND: "false",
      NPM_CONFIG_LOGLEVEL: "error",
    };
    t.after(async () => {
      for (const config of ["demo/flotilla.yaml", "flotilla.yaml"])
        await runBlock(`flotilla down -c ${config} || true`, work, env);
      rmSync(work, { recursive: true, force: true });
      rmSync(prefix, { recursive: true, force: true });
    });
    const found = blocks(file);
    assert.ok(found.length >= 3, `${file} has its command blocks`);
    for (const block of found) {
      const script = block
        .split("\n")
        .filter((line) => !NOT_RUN.some((skip) => skip.test(line.trim())))
        .join("\n");
      // The install block runs in the checkout; the rest in a fresh folder of the operator's.
      const cwd = /npm install -g \./.test(script) ? ROOT : work;
      const { code, out } = await runBlock(script, cwd, env);
      assert.equal(code, 0, `${file}: this block failed:\n${block}\n--- output:\n${out}`);
    }
  });
}
