/** Flotilla's one error hierarchy: every error has a stable code and a message that says what to do next. */

/** Stable error codes. Tests keep this list, the docs and the thrown errors in step. */
export const ERROR_CODES = {
  FLOTILLA_E_CONFIG_NOT_FOUND: "no config file was found",
  FLOTILLA_E_CONFIG_INVALID: "the config file does not validate",
  FLOTILLA_E_CONFIG_EXISTS: "a config file already exists where init would write",
  FLOTILLA_E_PREFLIGHT: "the fleet cannot start as configured",
  FLOTILLA_E_DAEMON_RUNNING: "a daemon is already running for this state dir",
  FLOTILLA_E_DAEMON_NOT_RUNNING: "no daemon is running for this state dir",
  FLOTILLA_E_DAEMON_UNREACHABLE: "the daemon did not answer",
  FLOTILLA_E_UNAUTHORIZED: "the control API token is missing or wrong",
  FLOTILLA_E_UNKNOWN_AGENT: "no agent has that name",
  FLOTILLA_E_USAGE: "the command line is wrong",
  FLOTILLA_E_SECRET: "a secret reference cannot be resolved",
  FLOTILLA_E_STATE: "the state dir cannot be used",
  FLOTILLA_E_SYSTEMD: "systemd units cannot be written",
  FLOTILLA_E_DRILL_REFUSED: "the fleet cannot take this drill safely as configured",
  FLOTILLA_E_CONSTITUTION_INVALID: "the constitution file cannot be read or parsed",
  FLOTILLA_E_CONSTITUTION_REQUIRED: "the constitution is required but missing or empty",
  FLOTILLA_E_AMENDMENT_INVALID: "an amendment names no existing article or lacks its text or reason",
  FLOTILLA_E_PENALTY_INVALID: "a penalty is missing a field or is too vague",
  FLOTILLA_E_APPLY_BUSY: "another config apply is in progress",
  FLOTILLA_E_APPLY_FAILED: "a config apply failed its health check and was rolled back",
  FLOTILLA_E_BACKUP_NOT_FOUND: "no backup has that id",
  FLOTILLA_E_FINDING_NOT_FOUND: "no oversight finding has that id",
  FLOTILLA_E_DELIVERY: "an alert or an injected message could not be delivered",
  FLOTILLA_E_EVAL_SET_INVALID: "a labelled set for oversight eval cannot be read or has a wrong line",
  FLOTILLA_E_WATCHDOG_RUNNING: "another watchdog already watches this state dir",
  FLOTILLA_E_INCIDENT_NOT_FOUND: "no watchdog incident has that id",
  FLOTILLA_E_JUDGE_UNAVAILABLE: "the oversight judge cannot be asked (no model, no gateway, or it refused)",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A user-facing error: the CLI prints `message` on one line, with no stack trace. */
export class FlotillaError extends Error {
  readonly code: ErrorCode;
  /** HTTP status when the error crosses the control API. */
  readonly status: number;

  constructor(code: ErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "FlotillaError";
    this.code = code;
    this.status = options.status ?? 400;
  }
}

export function isFlotillaError(err: unknown): err is FlotillaError {
  return err instanceof FlotillaError;
}
