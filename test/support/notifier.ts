/** Test helpers for the notifier: a validated config from YAML, a state dir with a real ledger, findings. */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { resolveConfig, validateConfigText } from "../../src/config/load.ts";
import type { FlotillaConfig } from "../../src/config/schema.ts";
import { openSqliteStore } from "../../src/ledger/sqlite-store.ts";
import type { Store } from "../../src/ledger/store.ts";
import type { Finding } from "../../src/oversight/finding.ts";
import { FLEETS_DIR } from "./fleet.ts";

/** A folder for a notifier's state and its ledger, removed after the test. */
export function notifierState(t: TestContext): { dir: string; stateDir: string; ledger: Store } {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-notify-"));
  const stateDir = join(dir, "state");
  const ledger = openSqliteStore(join(stateDir, "ledger.db"));
  t.after(() => {
    ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, stateDir, ledger };
}

/** The config of a fleet with one example agent and these oversight/alerts lines, validated by the real schema. */
export function configOf(dir: string, yaml: string): FlotillaConfig {
  const text = `version: 1
stateDir: ./state
agents:
  - { name: boss, role: coordinator, command: [node, agent.js], workspace: ./boss }
${yaml}`;
  const file = join(dir, "flotilla.yaml");
  const result = validateConfigText(text, file);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return resolveConfig(result.config, file).config;
}

let next = 0;

/** A finding as the runner would pass it. */
export function finding(overrides: Partial<Finding> = {}): Finding {
  next++;
  return {
    id: `f-${next}`,
    key: `k-${next}`,
    check: "push-without-ci",
    severity: "warning",
    agent: "coder",
    article: "Article III: Proof before done",
    evidence: "commit 3f2a9c1 on main: CI status failure",
    suggestion: "Revert 3f2a9c1 or fix the build, then push again.",
    state: "open",
    runId: 1,
    firstSeen: 1_796_000_000_000,
    lastSeen: 1_796_000_000_000,
    ...overrides,
  };
}
