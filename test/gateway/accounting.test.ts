/** Daily budgets add up every request's cost (over a real ledger file), survive a gateway restart and reset at midnight UTC. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { validateConfigText } from "../../src/config/load.ts";
import { createAccounting, type RequestRecord } from "../../src/gateway/accounting.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";

const CONFIG = `version: 1
providers:
  - { id: p, kind: openai, baseUrl: "http://127.0.0.1:1/v1", keys: [{ env: UNUSED }], prices: { m: { input: 1000000, output: 0 } } }
agents:
  - { name: coder, command: x, workspace: /tmp, budget: { daily: 10 } }
`;

/** A request of `inputTokens` tokens: at $1,000,000 per million input tokens, $1 per token. */
const request = (inputTokens: number): RequestRecord => ({
  agent: "coder",
  provider: "p",
  model: "m",
  tier: "primary",
  usage: { inputTokens, outputTokens: 0 },
  latencyMs: 1,
  status: 200,
  attempts: 1,
  stream: false,
  contextPressure: 0.1,
});

test("spend adds up request by request until the daily budget, and is read back after a restart", (t) => {
  const parsed = validateConfigText(CONFIG, "flotilla.yaml");
  assert.ok(parsed.ok);
  const dir = mkdtempSync(join(tmpdir(), "flotilla-accounting-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "ledger.db");
  // The ledger stamps events with the real time, so the clock starts from it.
  let now = Date.now();
  const clock = () => now;
  const store = openSqliteStore(file);
  const accounting = createAccounting(parsed.config, store, clock);
  for (const cost of [4, 4]) {
    assert.equal(accounting.overBudget("coder"), undefined, "under budget: the next request may go");
    assert.equal(accounting.record(request(cost)), cost);
  }
  assert.equal(accounting.spentToday("coder"), 8, "each request's cost is added, not put in place");
  assert.equal(accounting.overBudget("coder"), undefined);
  accounting.record(request(3));
  assert.deepEqual(accounting.overBudget("coder"), { daily: 10, spent: 11 });
  store.close();

  const reopened = openSqliteStore(file);
  t.after(() => reopened.close());
  const restarted = createAccounting(parsed.config, reopened, clock);
  assert.equal(restarted.spentToday("coder"), 11, "today's spend survives a restart");
  const today = new Date(now);
  now = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1, 0, 0, 1);
  assert.equal(restarted.overBudget("coder"), undefined, "a new day starts from zero");
  assert.equal(restarted.spentToday("coder"), 0);
});
