/** Test helpers for the watchdog's diagnosis: a fleet folder with a loaded config, a Map-backed cache, targets and probes. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import type { FlotillaConfig } from "../../src/config/schema.ts";
import type { Diagnosis, DiagnosisCache, ProbeResult, Target, TargetKind } from "../../src/watchdog/types.ts";
import { FLEETS_DIR } from "./fleet.ts";

export interface DiagnosisFleet {
  dir: string;
  file: string;
  stateDir: string;
  config: FlotillaConfig;
}

/** A temp folder with flotilla.yaml (stateDir ./state) loaded as the watchdog loads it; removed after the test. */
export function diagnosisFleet(t: TestContext, yaml: string): DiagnosisFleet {
  const dir = mkdtempSync(join(FLEETS_DIR, "flotilla-diagnose-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "flotilla.yaml");
  writeFileSync(file, `version: 1\nstateDir: ./state\n${yaml}`);
  const { config } = loadConfig(file);
  mkdirSync(join(config.stateDir, "logs"), { recursive: true, mode: 0o700 });
  return { dir, file, stateDir: config.stateDir, config };
}

/** The DiagnosisCache contract over a Map (the watchdog's real one is SQLite), with what was put. */
export function mapCache(): DiagnosisCache & { puts: number } {
  const entries = new Map<string, { diagnosis: Diagnosis; at: number }>();
  return {
    puts: 0,
    get(fingerprint, notBefore) {
      const entry = entries.get(fingerprint);
      return entry && entry.at >= notBefore ? entry.diagnosis : undefined;
    },
    put(fingerprint, diagnosis, at) {
      this.puts++;
      entries.set(fingerprint, { diagnosis, at });
    },
  };
}

export function target(kind: TargetKind, name: string = kind): Target {
  return { kind, name, id: kind === "agent" || kind === "provider" ? `${kind}:${name}` : kind };
}

/** failuresBeforeAction probes that saw the target down. */
export function downProbes(of: Target, detail: string, at = Date.now()): ProbeResult[] {
  return [0, 1, 2].map((i) => ({ target: of, state: "down", detail, at: at + i * 10_000 }));
}
