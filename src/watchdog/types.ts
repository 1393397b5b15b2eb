/**
 * The watchdog's shared vocabulary: what it watches (targets), what a probe says, what the model proposes,
 * what the policy decides and what an incident records. Each part (probes, diagnosis, policy, recovery,
 * incidents) implements one of these; `watchdog.ts` wires them.
 */

/** What the watchdog watches: the daemon, the gateway, one agent, the oversight pass, the live config file, a provider. */
export type TargetKind = "daemon" | "gateway" | "agent" | "oversight" | "config" | "provider";

export interface Target {
  kind: TargetKind;
  /** "daemon", "gateway", "oversight", "config", "agent:NAME" or "provider:ID". */
  id: string;
  /** The agent's or provider's name; the kind otherwise. */
  name: string;
}

/**
 * One probe's verdict:
 * - healthy: answering;
 * - starting: not answering, but inside its start grace (never a failure);
 * - slow: the first probe timed out, the longer re-probe answered (not a failure, recorded);
 * - stopped: stopped on purpose (by the operator, or autostart off): never acted on;
 * - down: not answering past its grace (dead, hung, refused, invalid, stale heartbeat).
 */
export type ProbeState = "healthy" | "starting" | "slow" | "stopped" | "down";

export interface ProbeResult {
  target: Target;
  state: ProbeState;
  /** One line: what the probe saw ("connection refused", "state failed (exit 137)", "heartbeat 14m old"). */
  detail: string;
  at: number;
}

/** One action a diagnosis proposes: an argv array, never a shell string. */
export interface ProposedAction {
  argv: string[];
  why?: string;
}

/** The model's answer, once validated. */
export interface Diagnosis {
  diagnosis: string;
  /** 0..1 */
  confidence: number;
  actions: ProposedAction[];
  /** Where it came from: a fresh model call, the cache (same symptoms within reuseDiagnosisFor), or none. */
  source: "model" | "cache";
  /** The logical model's chain entry that answered ("provider/model"). */
  model?: string;
}

/** Why there is no diagnosis: the deterministic path runs instead. */
export interface NoDiagnosis {
  unavailable: string;
}

/** The policy's word on one proposed action. */
export type PolicyDecision =
  { allowed: true; argv: string[]; rule: string } | { allowed: false; argv: string[]; reason: string };

/** One action that ran. */
export interface ActionRun {
  argv: string[];
  /** "model" (allowed by the policy) or "deterministic" (the watchdog's own restart or restore). */
  origin: "model" | "deterministic";
  exitCode: number | null;
  timedOut: boolean;
  /** Last lines of its output, secrets removed. */
  output: string;
  ms: number;
}

/** A config restore's evidence: both files' sha256, the diff, and what was kept from the live files. */
export interface RestoreRecord {
  backupId: string;
  fromSha256: string;
  toSha256: string;
  diff: string;
  /** Backup taken of the live files before the restore. */
  savedAs?: string;
  /** Secret references (keys) carried over from the live config because the backup predates them. */
  keptKeys: string[];
  /** Files not restored because their backup copy holds a redaction placeholder. */
  skippedFiles: string[];
  outcome: "applied" | "rolled_back" | "refused" | "failed";
  reason?: string;
}

export type IncidentOutcome = "recovered" | "escalated" | "open";

export interface Incident {
  id: string;
  target: Target;
  /** First failed probe and the moment the watchdog decided it was down (failuresBeforeAction reached). */
  firstSeenAt: number;
  detectedAt: number;
  seen: ProbeResult[];
  diagnosis?: Diagnosis;
  noDiagnosis?: string;
  proposed: ProposedAction[];
  decisions: PolicyDecision[];
  ran: ActionRun[];
  restore?: RestoreRecord;
  outcome: IncidentOutcome;
  recoveredAt?: number;
  escalatedAt?: number;
  acknowledgedAt?: number;
  /** Milliseconds from the first failed probe to detection, and from detection to recovery. */
  timeToDetectMs: number;
  timeToRecoverMs?: number;
  /** Model calls this incident cost (0 when the cache or the deterministic path served). */
  modelCalls: number;
  notes: string[];
}

/** Diagnoses kept for reuse: identical symptoms (same fingerprint) within the window reuse the last answer. */
export interface DiagnosisCache {
  get(fingerprint: string, notBefore: number): Diagnosis | undefined;
  put(fingerprint: string, diagnosis: Diagnosis, at: number): void;
}

/** What the diagnosis reads about a target, secrets already removed. */
export interface Evidence {
  /** The target's last log lines (logLines of them). */
  logs: string[];
  /** Recent ledger events (or incident-file entries when the ledger cannot be read), one line each. */
  events: string[];
  /** The live config's validation: "valid" or the problems, one per line. */
  configCheck: string;
}
