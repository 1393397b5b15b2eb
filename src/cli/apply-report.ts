/**
 * What `config apply` says while the daemon checks health (a progress line on a terminal) and after a
 * failed check: each failed agent's last exit and last log lines, then what was rolled back.
 */
import type { ApiClient } from "../api/client.ts";
import type { GateFailure } from "../migrations/health-gate.ts";
import type { ApplyProgress, ApplyResult } from "../migrations/migrator.ts";

const PROGRESS_EVERY_MS = 250;

function progressLine(p: ApplyProgress): string {
  const what = p.phase === "checking" ? "checking health" : "rolling back, checking health";
  const agents = p.pending
    .map((a) =>
      a.state === "running"
        ? `${a.name} running ${(a.healthyForMs / 1000).toFixed(1)}s`
        : `${a.name} ${a.state}`,
    )
    .join(", ");
  return `${what}: ${agents}; ${Math.ceil(p.leftMs / 1000)}s left`;
}

/**
 * Polls the daemon's apply progress and keeps one line on `out` up to date until `done` settles. Writes
 * nothing unless `out` is a terminal.
 */
export async function showProgress<T>(
  client: ApiClient,
  done: Promise<T>,
  out: NodeJS.WriteStream,
): Promise<T> {
  if (!out.isTTY) return done;
  let settled = false;
  let shown = false;
  const finished = done.finally(() => {
    settled = true;
  });
  const poll = async () => {
    while (!settled) {
      const body = await client
        .get<{ progress: ApplyProgress | null }>("/v1/config/progress")
        .catch(() => null);
      if (!settled && body?.progress) {
        out.write(`\r\x1b[K${progressLine(body.progress)}`);
        shown = true;
      }
      await Promise.race([
        finished.catch(() => undefined),
        new Promise((r) => setTimeout(r, PROGRESS_EVERY_MS)),
      ]);
    }
    if (shown) out.write("\r\x1b[K");
  };
  const polling = poll();
  try {
    return await finished;
  } finally {
    await polling;
  }
}

function exitText(exit: GateFailure["lastExit"]): string {
  if (!exit) return "it has not exited";
  const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
  return `${how} at ${new Date(exit.at).toISOString().slice(11, 23)}`;
}

/** What a rollback did, in one line. */
export function rollbackText(rollback: ApplyResult["rollback"]): string {
  if (!rollback) return "rolled back to the previous config";
  const { plan } = rollback;
  const steps = [
    ...plan.remove.map((n) => `stopped ${n}`),
    ...plan.restart.map((c) => `restarted ${c.name} on its previous config`),
    ...plan.add.map((n) => `started ${n} again`),
  ];
  const did = steps.length > 0 ? steps.join(", ") : "no agent needed undoing";
  const after = rollback.healthy
    ? "the previous config runs and passed its check"
    : `the previous config did not pass its check either: ${rollback.failed.map((f) => `${f.name} (${f.reason})`).join("; ")}`;
  return `rolled back the config file and the fleet: ${did}; ${after}`;
}

/** The details of a failed check, for stderr: each agent's last exit and last log lines. */
export function failureDetails(result: ApplyResult): string {
  const blocks = result.failed.map((f) => {
    const lines = f.logs ?? [];
    const log = lines.length > 0 ? lines.map((l) => `  | ${l}`).join("\n") : "  (its log is empty)";
    return `${f.name}: ${f.state}, last exit ${exitText(f.lastExit)}\nlast ${lines.length} lines of ${f.name}'s log:\n${log}`;
  });
  return `${blocks.join("\n")}\n${rollbackText(result.rollback)}`;
}

/** The error line of a failed apply. */
export function failureLine(result: ApplyResult): string {
  const failed = result.failed.map((f) => `${f.name} (${f.reason})`).join("; ");
  return `health check failed: ${failed}; rolled back to the previous config (see "flotilla config history")`;
}
