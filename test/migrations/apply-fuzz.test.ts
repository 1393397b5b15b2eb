/**
 * Fuzz: well over 100 invalid configs, generated from a valid base, are applied to a running fleet through
 * the same entry as `flotilla config apply`. Each is rejected with one line naming the file and field, and
 * the fleet's pids, its config file and its backups are unchanged.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse, stringify } from "yaml";
import { main } from "../../src/cli/main.ts";
import { fleetDir, freePorts, runCli, status, waitFor } from "../support/fleet.ts";
import { fleetConfig, ledgerEvents } from "../support/migrations.ts";

type Json = Record<string, unknown>;

interface Mutant {
  label: string;
  text: string;
  /** Text the one-line message must contain besides the file name (the field's path). */
  names?: string;
}

/** Sets a value at a dotted path of a deep copy of `base`. */
function withValue(base: Json, path: string, value: unknown): Json {
  const copy = structuredClone(base);
  const keys = path.split(".");
  let node: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys.at(-1) as string] = value;
  return copy;
}

function generate(baseText: string, ports: number[]): Mutant[] {
  const base = parse(baseText) as Json;
  const out: Mutant[] = [];
  const structured = (family: string, path: string, value: unknown, names = path) =>
    out.push({
      label: `${family} ${path}=${JSON.stringify(value)}`,
      text: stringify(withValue(base, path, value)),
      names,
    });
  const lines = baseText.split("\n");

  // broken YAML: unbalanced brackets, truncation inside a flow mapping, tabs, duplicate keys
  for (let i = 0; i < lines.length - 1; i++) {
    out.push({
      label: `yaml: unclosed [ on line ${i + 1}`,
      text: lines.map((l, j) => (j === i ? `${l} [` : l)).join("\n"),
    });
    out.push({
      label: `yaml: stray ] on line ${i + 1}`,
      text: lines.map((l, j) => (j === i ? `${l} ]]` : l)).join("\n"),
    });
  }
  const agentsAt = baseText.indexOf("  - {");
  for (const cut of [10, 25, 40, 60, 90, 120]) {
    out.push({
      label: `yaml: truncated ${cut} chars into an agent`,
      text: baseText.slice(0, agentsAt + cut),
    });
  }
  out.push({ label: "yaml: tab indentation", text: baseText.replace("  - {", "\t- {") });
  out.push({
    label: "yaml: duplicate key",
    text: baseText.replace("version: 1\n", "version: 1\nversion: 1\n"),
  });
  out.push({
    label: "yaml: duplicate key in agent",
    text: baseText.replace("name: alpha,", "name: alpha, name: alpha2,"),
  });
  // not a mapping at all
  for (const text of ["", "[]\n", "42\n", "just some words\n", "- a\n- b\n"])
    out.push({ label: `root ${JSON.stringify(text)}`, text });

  // wrong types
  const wrongTypes: Array<[string, unknown]> = [
    ["version", 2],
    ["version", "one"],
    ["stateDir", 5],
    ["inheritEnv", "PATH"],
    ["agents", { alpha: 1 }],
    ["logs.keep", -1],
    ["logs.ringLines", "many"],
    ["migrations.keepBackups", 0],
    ["migrations.healthTimeout", 60],
    ["drift.every", true],
    ["constitution.articles", ""],
  ];
  for (const [path, value] of wrongTypes) structured("type", path, value);
  for (const index of [0, 1]) {
    const agentTypes: Array<[string, unknown]> = [
      ["port", "http"],
      ["port", -1],
      ["port", 70000],
      ["port", 1.5],
      ["name", 42],
      ["name", "Bad Name"],
      ["command", 5],
      ["command", []],
      ["workspace", ""],
      ["restart", "always"],
      ["restart.policy", "sometimes"],
      ["health", { http: "no-slash" }],
      ["health.failures", 0],
      ["limits", { memory: "lots" }],
      ["limits", { cpu: -2 }],
      ["autostart", "yes"],
      ["env", ["A=1"]],
      ["env", { TOKEN: { env: "lower case" } }],
    ];
    for (const [key, value] of agentTypes) structured("type", `agents.${index}.${key}`, value);
  }

  // duplicate names and ports
  const agents = (base.agents as Json[]).map((a) => structuredClone(a));
  const dup = (label: string, tweak: (copy: Json) => void, names: string) => {
    const copy = structuredClone(base);
    const extra = structuredClone(agents[0]) as Json;
    tweak(extra);
    (copy.agents as Json[]).push(extra);
    out.push({ label, text: stringify(copy), names });
  };
  for (const [n, port] of ports.entries()) {
    dup(`duplicate name alpha (port ${port})`, (a) => (a.port = port + 1000 + n), "agents.2.name");
    dup(`duplicate port of alpha (name c${n})`, (a) => (a.name = `c${n}`), "agents.2.port");
  }
  structured("duplicate", "agents.1.name", "alpha", "agents.1.name");
  structured("duplicate", "agents.1.port", (agents[0] as Json).port, "agents.1.port");

  // dangling model references
  for (const [index, model] of ["ghost", "strategic", "audit", "", "alpha"].entries()) {
    structured("dangling", `agents.${index % 2}.model`, model, `agents.${index % 2}.model`);
  }
  for (const provider of ["ghost", "anthropic-a", "groq"]) {
    structured("dangling", "models", { main: [{ provider, model: "x" }] }, "models.main.0.provider");
  }

  // bad durations
  for (const value of ["10 parsecs", "5", "-1s", "1.5.5s", "s", "1y", ""]) {
    structured("duration", "agents.0.stopTimeout", value);
    structured("duration", "agents.1.restart.delay", value);
    structured("duration", "migrations.lastKnownGoodAfter", value);
  }

  // unknown and retired keys
  structured("unknown", "agentz", []);
  structured("unknown", "agents.0.cmd", "node x.js", "agents.0");
  structured("unknown", "agents.1.healthcheck", { http: "/health" }, "agents.1");
  structured("unknown", "agents.0.restartDelay", "1s", "agents.0");
  structured("unknown", "migrations.keep", 3, "migrations");
  structured("unknown", "drift.interval", "1s", "drift");
  structured("unknown", "logs.size", "1M", "logs");
  structured("unknown", "agents.0.health.path", "/x", "agents.0.health");

  // sections a running daemon cannot take
  structured("fixed", "stateDir", "./elsewhere");
  structured("fixed", "api", { listen: "127.0.0.1:1" });
  return out;
}

/** Runs the CLI entry in this process and captures what it writes. */
async function apply(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const write = { out: process.stdout.write, err: process.stderr.write };
  let stdout = "";
  let stderr = "";
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

test("at least 100 generated invalid configs are each rejected in one line; pids, config and backups unchanged", async (t) => {
  const [pa = 0, pb = 0, ...spare] = await freePorts(6);
  const yaml = fleetConfig(
    [
      { name: "alpha", port: pa },
      { name: "bravo", port: pb },
    ],
    "migrations: { healthTimeout: 10s, healthyFor: 500ms }\n",
  );
  const { dir, file } = fleetDir(t, yaml);
  const up = await runCli(["up", "--detach", "--json", "-c", file]);
  assert.equal(up.code, 0, up.stderr);
  const before = await waitFor(async () => {
    const rows = await status(file);
    return rows.every((r) => r.state === "running") ? rows : undefined;
  }, "both agents running");
  const bytes = readFileSync(file);
  const backups = () =>
    existsSync(join(dir, "state/backups")) ? readdirSync(join(dir, "state/backups")) : [];
  const backupsBefore = backups();

  const mutants = generate(yaml, spare);
  assert.ok(mutants.length >= 100, `only ${mutants.length} mutants`);
  const proposed = join(dir, "proposed.yaml");
  const families = new Map<string, string>();
  for (const mutant of mutants) {
    writeFileSync(proposed, mutant.text);
    const result = await apply(["config", "apply", proposed, "--yes", "-c", file]);
    assert.equal(result.code, 1, `${mutant.label}: exit ${result.code}\n${result.stdout}${result.stderr}`);
    assert.equal(result.stdout, "", `${mutant.label}: printed a plan for an invalid config`);
    assert.match(
      result.stderr,
      /^flotilla config: [^\n]+\n$/,
      `${mutant.label}: not one line: ${result.stderr}`,
    );
    assert.ok(result.stderr.includes(proposed), `${mutant.label}: does not name the file: ${result.stderr}`);
    if (mutant.names)
      assert.ok(
        result.stderr.includes(mutant.names),
        `${mutant.label}: does not name ${mutant.names}: ${result.stderr}`,
      );
    assert.ok(!result.stderr.includes("    at "), `${mutant.label}: stack trace`);
    families.set(mutant.label.split(/[ :]/)[0] ?? "", result.stderr.trim());
  }
  t.diagnostic(`${mutants.length} invalid configs rejected; one message per family:`);
  for (const [family, message] of families) t.diagnostic(`${family}: ${message}`);

  const after = await status(file);
  assert.deepEqual(
    after.map((r) => [r.name, r.pid, r.state]),
    before.map((r) => [r.name, r.pid, "running"]),
  );
  assert.deepEqual(readFileSync(file), bytes, "the live config file is byte for byte the same");
  assert.deepEqual(backups(), backupsBefore, "no backup was taken for a rejected config");
  assert.deepEqual(
    ledgerEvents(dir, "config.apply").map((e) => e.kind),
    [],
    "the daemon never started an apply",
  );
});
