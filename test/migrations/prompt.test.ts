/** The interactive question before a config change, answered on a real terminal (a pseudo-terminal from `script`). */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { BIN, fleetDir, freePorts, NODE } from "../support/fleet.ts";
import { alphaThenBravo } from "../support/migrations.ts";

const quote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`;

/** Runs `flotilla ARGS` with a terminal as its stdin and stdout, types `answer` once asked, and returns what it printed. */
function onTerminal(args: string[], answer: string): Promise<{ code: number | null; output: string }> {
  const command = [NODE, BIN, ...args].map(quote).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let asked = false;
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (!asked && output.includes("[y/N]")) {
      asked = true;
      child.stdin.write(`${answer}\r`);
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

test("on a terminal, config apply asks first: no (or just Enter) applies nothing, y applies", async (t) => {
  const [pa = 0, pb = 0] = await freePorts(2);
  const { oldText, newText } = alphaThenBravo(pa, pb);
  const { dir, file } = fleetDir(t, oldText);
  const proposed = join(dir, "new.yaml");
  writeFileSync(proposed, newText);
  const backups = () => {
    const folder = join(dir, "state/backups");
    return existsSync(folder) ? readdirSync(folder).length : 0;
  };

  for (const answer of ["n", ""]) {
    const declined = await onTerminal(["config", "apply", proposed, "-c", file], answer);
    assert.equal(declined.code, 0, declined.output);
    assert.match(declined.output, /apply this plan\? \[y\/N\]/);
    assert.match(declined.output, /nothing was applied; re-run with --yes to apply/);
    assert.equal(readFileSync(file, "utf8"), oldText, `answer ${JSON.stringify(answer)} changed the file`);
    assert.equal(backups(), 0, "a declined plan makes no backup");
  }

  const accepted = await onTerminal(["config", "apply", proposed, "-c", file], "y");
  assert.equal(accepted.code, 0, accepted.output);
  assert.match(accepted.output, /apply this plan\? \[y\/N\]/);
  assert.equal(readFileSync(file, "utf8"), newText);
  assert.equal(backups(), 1, "the running config was backed up before the change");
});
