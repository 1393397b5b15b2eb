/** What an agent's isolation is (its mode over the fleet's, paths added) and the bubblewrap line built from it. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { fleetView, isolationOf } from "../../src/isolation/policy.ts";
import { sandboxArgs } from "../../src/isolation/sandbox.ts";
import { FLEETS_DIR } from "../support/fleet.ts";

function fleet(t: { after: (fn: () => void) => void }, yaml: string) {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-policy-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const ws of ["ws/a", "ws/b", "ws/a/inner", "shared", "state"])
    mkdirSync(join(dir, ws), { recursive: true });
  writeFileSync(join(dir, "key.txt"), "sk-test\n");
  writeFileSync(join(dir, "flotilla.yaml"), yaml);
  return { dir, loaded: loadConfig(join(dir, "flotilla.yaml")) };
}

test("an agent's mode replaces the fleet's and its paths add to the fleet's, resolved against the config", (t) => {
  const { dir, loaded } = fleet(
    t,
    `version: 1
stateDir: ./state
isolation: { mode: sandbox, readable: [./shared] }
providers: [{ id: p, kind: openai, baseUrl: "http://127.0.0.1:1/v1", keys: [{ file: ./key.txt }] }]
agents:
  - { name: a, command: x, workspace: ./ws/a, isolation: { writable: [./shared] } }
  - { name: b, command: x, workspace: ./ws/b, isolation: none }
  - { name: c, command: x, workspace: ./ws/a/inner, isolation: { mode: user, user: builder } }
`,
  );
  const [a, b, c] = loaded.config.agents;
  assert.ok(a && b && c);
  assert.deepEqual(isolationOf(a, loaded.config.isolation), {
    mode: "sandbox",
    writable: [join(dir, "shared")],
    readable: [join(dir, "shared")],
    createUser: false,
  });
  assert.equal(isolationOf(b, loaded.config.isolation).mode, "none");
  assert.deepEqual(
    { ...isolationOf(c, loaded.config.isolation), readable: [] },
    { mode: "user", writable: [], readable: [], user: "builder", createUser: false },
  );
  assert.deepEqual(fleetView(loaded.config, loaded.file), {
    stateDir: join(dir, "state"),
    configFile: join(dir, "flotilla.yaml"),
    workspaces: [join(dir, "ws/a"), join(dir, "ws/b"), join(dir, "ws/a/inner")],
    secretFiles: [join(dir, "key.txt")],
  });
});

test("the sandbox mounts parents before children and hides what governs the fleet", (t) => {
  const { dir, loaded } = fleet(
    t,
    `version: 1
stateDir: ./state
providers: [{ id: p, kind: openai, baseUrl: "http://127.0.0.1:1/v1", keys: [{ file: ./ws/a/key.txt }] }]
agents:
  - { name: a, command: x, workspace: ./ws/a }
  - { name: b, command: x, workspace: ./ws/b }
  - { name: c, command: x, workspace: ./ws/a/inner }
`,
  );
  writeFileSync(join(dir, "ws/a/key.txt"), "sk-test\n");
  const view = fleetView(loaded.config, loaded.file);
  const [a] = loaded.config.agents;
  assert.ok(a);
  const args = sandboxArgs(a.workspace, isolationOf(a, loaded.config.isolation), view, ["node", "agent.js"]);
  const line = args.join(" ");
  assert.ok(line.startsWith("--unshare-pid --unshare-ipc "), "its own PID and IPC namespaces");
  assert.ok(line.endsWith(`--chdir ${a.workspace} -- node agent.js`));
  const at = (text: string) => {
    const index = line.indexOf(text);
    assert.notEqual(index, -1, `missing: ${text}`);
    return index;
  };
  assert.ok(at("--ro-bind / /") < at("--tmpfs /tmp"), "the system read-only first");
  const root = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
  at(`--ro-bind ${root} ${root}`); // Flotilla's own install stays visible even under /tmp
  assert.ok(
    at("--tmpfs /tmp") < at(`--bind ${a.workspace} ${a.workspace}`),
    "a workspace under /tmp still shows",
  );
  at(`--tmpfs ${join(dir, "state")} --remount-ro ${join(dir, "state")}`);
  at(`--tmpfs ${join(dir, "ws/b")} --remount-ro`);
  assert.ok(
    at(`--bind ${a.workspace} ${a.workspace}`) < at(`--tmpfs ${join(dir, "ws/a/inner")}`),
    "another agent's workspace inside this one is hidden on top of it",
  );
  assert.ok(
    at(`--bind ${a.workspace} ${a.workspace}`) < at(`--ro-bind /dev/null ${join(dir, "ws/a/key.txt")}`),
    "a secret file inside the workspace is hidden on top of it",
  );
});

test("every secret file the config names is hidden from a sandboxed agent: keys, OAuth, env, alerts, CI and injection tokens", (t) => {
  const names = ["key", "client", "env", "hook", "bot", "ci", "inject"];
  const { dir, loaded } = fleet(
    t,
    `version: 1
stateDir: ./state
providers:
  - id: p
    kind: openai
    baseUrl: "http://127.0.0.1:1/v1"
    keys: [{ file: ./s/key }]
    auth: { kind: oauth2, tokenUrl: "http://127.0.0.1:1/token", clientSecret: { file: ./s/client } }
alerts:
  - { id: hook, kind: webhook, url: { file: ./s/hook } }
  - { id: bot, kind: telegram, token: { file: ./s/bot }, chatId: "1" }
repos:
  - { path: ./ws/a, ci: { kind: github, repo: o/app, token: { file: ./s/ci } } }
oversight: { inject: { token: { file: ./s/inject } } }
agents:
  - { name: a, command: x, workspace: ./ws/a, env: { TOKEN: { file: ./s/env } } }
`,
  );
  mkdirSync(join(dir, "s"));
  for (const name of names) writeFileSync(join(dir, "s", name), `secret-${name}-value\n`);
  const view = fleetView(loaded.config, loaded.file);
  assert.deepEqual(
    [...view.secretFiles].sort(),
    names.map((name) => join(dir, "s", name)).sort(),
    "every reference, not only the providers' and the agents'",
  );
  const [a] = loaded.config.agents;
  assert.ok(a);
  if (spawnSync("bwrap", ["--version"]).status !== 0) return t.skip("bubblewrap is not installed");
  const files = names.map((name) => join(dir, "s", name));
  const readAll = ["sh", "-c", 'cat "$@" 2>/dev/null; true', "sh", ...files];
  const outside = spawnSync(readAll[0] as string, readAll.slice(1), { encoding: "utf8" });
  assert.equal(outside.stdout.match(/secret-\w+-value/g)?.length, names.length, "outside, each reads");
  const args = sandboxArgs(a.workspace, isolationOf(a, loaded.config.isolation), view, readAll);
  const run = spawnSync("bwrap", args, { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, "", "inside the sandbox none of them reads");
});
