/** What a CI source says about one commit. */

/**
 * success and failure are final; pending and none may change; error means the source could not be asked
 * (never read as a pass).
 */
export type CiState = "success" | "failure" | "pending" | "none" | "error";

export interface CiResult {
  state: CiState;
  /** One line for evidence: which status or run failed, or why the source could not be asked. */
  detail: string;
}

export const isFinal = (result: CiResult): boolean =>
  result.state === "success" || result.state === "failure";
