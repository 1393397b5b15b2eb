/** Log files rotate by size and keep a bounded ring of the last lines. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createLogSink } from "../../src/supervisor/log-sink.ts";

test("lines split across chunks are joined; the ring keeps the last N; files rotate at maxSize", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-logs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "agent.log");
  const sink = createLogSink({ file, maxSize: 200, keep: 2, ringLines: 5 });
  sink.write("stdout", "hel");
  sink.write("stdout", "lo\nwor");
  sink.write("stderr", "err line\n");
  sink.write("stdout", "ld\n");
  assert.deepEqual(
    sink.tail(10).map((l) => `${l.stream}:${l.text}`),
    ["stdout:hello", "stderr:err line", "stdout:world"],
  );
  for (let i = 0; i < 40; i++) sink.write("stdout", `line number ${i}\n`);
  assert.deepEqual(
    sink.tail(10).map((l) => l.text),
    ["line number 35", "line number 36", "line number 37", "line number 38", "line number 39"],
  );
  assert.ok(existsSync(`${file}.1`) && existsSync(`${file}.2`), "two rotated files kept");
  assert.equal(existsSync(`${file}.3`), false, "no more than keep");
  assert.ok(readFileSync(file).length <= 200);
  assert.match(readFileSync(file, "utf8"), /line number 39\n$/);
  sink.close();
});
