/**
 * The daemon stays lean: its module graph (the supervisor, migrations, oversight with its judge, alerts)
 * loads neither zod nor yaml (the CLI validates configs before they reach it), nor undici until a first
 * alert is sent. zod alone adds about 18 MB, undici about 28 MB.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { NODE, ROOT } from "./support/fleet.ts";

test("importing the daemon loads neither zod, yaml nor undici", () => {
  const daemon = pathToFileURL(`${ROOT}src/daemon.ts`).href;
  const script = `
    import { registerHooks } from "node:module";
    const loaded = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.push(r.url); return r; } });
    await import(${JSON.stringify(daemon)});
    process.stdout.write(JSON.stringify(loaded));`;
  const loaded = JSON.parse(
    execFileSync(NODE, ["--input-type=module", "-e", script], { encoding: "utf8" }),
  ) as string[];
  assert.ok(
    loaded.some((url) => url.endsWith("/src/oversight/judge/verdict.ts")),
    "the judge is in the graph",
  );
  assert.deepEqual(
    loaded.filter((url) => /\/node_modules\/(zod|yaml|undici)\//.test(url)),
    [],
  );
});
