/**
 * A commit's CI on GitHub through the REST API: the combined status
 * (GET /repos/{owner}/{repo}/commits/{ref}/status) and the check runs
 * (GET /repos/{owner}/{repo}/commits/{ref}/check-runs), read with a timeout and a size cap.
 */
import { outboundFetch } from "../../net/outbound.ts";
import type { CiResult } from "./ci-result.ts";

/** Time limit (milliseconds) and size cap (bytes) of one API call. */
export const GITHUB_DEFAULTS = { timeoutMs: 10_000, maxBytes: 1024 * 1024 } as const;

export interface GithubSource {
  /** The API's base URL, such as https://api.github.com (tests use a loopback server). */
  apiUrl: string;
  /** OWNER/NAME. */
  repo: string;
  token: string | undefined;
}

class Unreachable extends Error {}

async function getJson(source: GithubSource, path: string): Promise<Record<string, unknown> | "not-found"> {
  const url = `${source.apiUrl.replace(/\/+$/, "")}/repos/${source.repo}${path}`;
  let res: Response;
  try {
    res = await outboundFetch(url, {
      headers: {
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        "user-agent": "flotilla-oversight",
        ...(source.token ? { authorization: `Bearer ${source.token}` } : {}),
      },
      signal: AbortSignal.timeout(GITHUB_DEFAULTS.timeoutMs),
    });
  } catch (err) {
    const why =
      (err as Error).name === "TimeoutError"
        ? `no answer in ${GITHUB_DEFAULTS.timeoutMs} ms`
        : "cannot connect";
    throw new Unreachable(`${source.apiUrl}: ${why}`);
  }
  // 422: GitHub does not know the commit (it was never pushed there), which is no CI record.
  if (res.status === 404 || res.status === 422) {
    await res.body?.cancel();
    return "not-found";
  }
  if (!res.ok) {
    await res.body?.cancel();
    const hint = res.status === 401 || res.status === 403 ? " (check the token and its scopes)" : "";
    throw new Unreachable(`${source.apiUrl} answered HTTP ${res.status}${hint}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early cancels the body (the iterator's return), so an oversized answer is not read on.
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).byteLength;
    if (size > GITHUB_DEFAULTS.maxBytes) break;
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  if (size > GITHUB_DEFAULTS.maxBytes)
    throw new Unreachable(`${source.apiUrl}: an answer over ${GITHUB_DEFAULTS.maxBytes} bytes`);
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (body && typeof body === "object" && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new Unreachable(`${source.apiUrl}: the answer is not a JSON object`);
}

const list = (value: unknown): Array<Record<string, unknown>> =>
  Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => !!v && typeof v === "object") : [];
const str = (value: unknown): string => (typeof value === "string" ? value : "");

/** Conclusions of a completed check run that are not a pass. */
const FAILED = new Set(["failure", "cancelled", "timed_out", "action_required", "stale", "startup_failure"]);

/** The commit's CI as GitHub reports it; an unreachable or refusing API is "error", never a pass. */
export async function githubCi(source: GithubSource, sha: string): Promise<CiResult> {
  let status: Record<string, unknown> | "not-found";
  let runs: Record<string, unknown> | "not-found";
  try {
    [status, runs] = await Promise.all([
      getJson(source, `/commits/${sha}/status`),
      getJson(source, `/commits/${sha}/check-runs?per_page=100`),
    ]);
  } catch (err) {
    if (err instanceof Unreachable) return { state: "error", detail: `GitHub ${err.message}` };
    throw err;
  }
  const statuses = status === "not-found" ? [] : list(status.statuses);
  const checkRuns = runs === "not-found" ? [] : list(runs.check_runs);
  if (statuses.length === 0 && checkRuns.length === 0)
    return {
      state: "none",
      detail: `GitHub ${source.repo} has no status or check run for ${sha.slice(0, 10)}`,
    };
  const failed = [
    ...statuses
      .filter((s) => s.state === "failure" || s.state === "error")
      .map((s) => `status ${str(s.context)}: ${str(s.state)}`),
    ...checkRuns
      .filter((r) => r.status === "completed" && FAILED.has(str(r.conclusion)))
      .map((r) => `check run ${str(r.name)}: ${str(r.conclusion)}`),
  ];
  if (failed.length > 0) return { state: "failure", detail: failed.join("; ") };
  const pending = [
    ...statuses.filter((s) => s.state === "pending").map((s) => `status ${str(s.context)}: pending`),
    ...checkRuns
      .filter((r) => r.status !== "completed")
      .map((r) => `check run ${str(r.name)}: ${str(r.status)}`),
  ];
  if (pending.length > 0) return { state: "pending", detail: pending.join("; ") };
  return {
    state: "success",
    detail: `${statuses.length} statuses and ${checkRuns.length} check runs passed`,
  };
}
