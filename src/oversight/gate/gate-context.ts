/** What the daemon tells the gate about a push (POST /v1/gate/context), and what the gate records (POST /v1/gate/records). */
import type { CiResult } from "../ci/ci-result.ts";

export interface GateLimits {
  maxFiles: number;
  formatFiles: number;
  noiseCommits: number;
  /** Milliseconds. */
  noiseWindow: number;
}

export interface GateContextRequest {
  /** The remote's URL; a local path made absolute by the caller. */
  remote: string;
  /** The commit pushed to a protected branch whose CI the daemon should ask about (github sources), or null. */
  tip: string | null;
}

export interface GateContext {
  /** The repos[] entry the remote pushes to, without secrets, or null when it is not configured. */
  repo: {
    index: number;
    path: string;
    branches: string[];
    test: string[] | null;
    ci: { kind: "github" | "command"; command: string[] | null; timeout: number } | null;
  } | null;
  limits: GateLimits;
  /** GitHub's answer for `tip`, when the repository's CI is on GitHub and a tip was given. */
  ci: CiResult | null;
  /** The calling agent, and the tier of the gateway's last answer to it (null for the operator or no traffic). */
  agent: string | null;
  tier: string | null;
}

export const RECORD_KINDS = ["passed", "emergency", "refused", "installed"] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export interface GateRecordRequest {
  kind: RecordKind;
  remote: string;
  shas: string[];
  /** The branch pushed to (refs/heads/…), or null. */
  ref: string | null;
  /** emergency: the reason given; refused: the refusal. */
  reason?: string;
  /** emergency: the refusal it overrode, if any. */
  refusal?: string;
}
