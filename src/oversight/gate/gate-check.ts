/**
 * `flotilla gate check`: judges a push by the rules, asks the daemon what it knows (the repository's
 * settings, GitHub's CI, the agent's last tier), runs CI and the tests on the pushed commit, and records
 * the outcome through the daemon. Anything it cannot do is a refusal (fail closed).
 */
import { isAbsolute, resolve } from "node:path";
import { commandCi, runInCheckout } from "../ci/command.ts";
import { git } from "../git.ts";
import type { DaemonLink } from "./daemon-link.ts";
import type { GateContext, GateContextRequest, GateRecordRequest } from "./gate-context.ts";
import { type RefUpdate, pushContents } from "./push-range.ts";
import { ciRefusal, contentRefusal, type Refusal, testRefusal } from "./rules.ts";

/** How long the test command may run when the repository's CI sets no timeout (milliseconds). */
const TEST_TIMEOUT_MS = 10 * 60_000;

export interface GateCheckInput {
  /** The clone being pushed from. */
  cwd: string;
  remoteName: string;
  remoteUrl: string;
  updates: RefUpdate[];
  /** --emergency: let the push through, recorded as a violation. */
  emergency: string | null;
  link: DaemonLink;
}

export interface GateOutcome {
  ok: boolean;
  refusal: Refusal | null;
  /** The emergency reason when it let a refused push through. */
  emergency: string | null;
  /** The commits pushed (newest first). */
  shas: string[];
  agent: string | null;
}

/** A remote's URL as the daemon can compare it: a local path made absolute. */
export function absoluteRemote(url: string, cwd: string): string {
  if (/^[\w+.-]+:\/\//.test(url) || /^[\w.-]+@[\w.-]+:/.test(url)) return url;
  return isAbsolute(url) ? url : resolve(cwd, url);
}

async function judgeUpdate(input: GateCheckInput, remote: string, update: RefUpdate) {
  const contents = await pushContents(input.cwd, input.remoteName, update);
  const branch = update.remoteRef.replace(/^refs\/heads\//, "");
  const request: GateContextRequest & { ref: string } = {
    remote,
    tip: update.localSha,
    ref: update.remoteRef,
  };
  const context = await input.link.post<GateContext>("/v1/gate/context", request);
  const shas = contents.commits.map((c) => c.sha);
  let refusal = contents.commits.length > 0 ? contentRefusal(contents, context) : null;
  const repo = context.repo;
  // Commands take time: an emergency skips them (what they would have said is not known). A tip with no
  // new commits (already pushed to another branch) is still checked: it is new to this branch.
  if (refusal || !repo || input.emergency !== null || update.localSha === update.remoteSha)
    return { refusal, shas, context };
  if (repo.branches.includes(branch) && repo.ci) {
    const result =
      repo.ci.kind === "github"
        ? context.ci
        : await commandCi(input.cwd, update.localSha, repo.ci.command ?? [], repo.ci.timeout);
    refusal = result
      ? ciRefusal(update.localSha, branch, result)
      : ciRefusal(update.localSha, branch, { state: "error", detail: "the daemon did not ask GitHub" });
  }
  if (!refusal && repo.test) {
    const run = await runInCheckout(
      input.cwd,
      update.localSha,
      repo.test,
      repo.ci?.timeout ?? TEST_TIMEOUT_MS,
    );
    if (run.code !== 0)
      refusal = testRefusal(
        repo.test,
        run.timedOut
          ? "it timed out"
          : `exit ${run.code ?? "on a signal"}${run.tail ? `: …${run.tail.split("\n").slice(-2).join(" / ")}` : ""}`,
      );
  }
  return { refusal, shas, context };
}

/** Judges the push and records the outcome; throws when the daemon cannot be asked or told (the caller refuses). */
export async function checkPush(input: GateCheckInput): Promise<GateOutcome> {
  const remote = absoluteRemote(input.remoteUrl, input.cwd);
  let refusal: Refusal | null = null;
  let refusedRef: string | null = null;
  const shas: string[] = [];
  let agent: string | null = null;
  for (const update of input.updates) {
    const judged = await judgeUpdate(input, remote, update);
    agent = judged.context.agent;
    shas.push(...judged.shas);
    if (judged.refusal && !refusal) {
      refusal = judged.refusal;
      refusedRef = update.remoteRef;
    }
  }
  const ref = refusedRef ?? input.updates[0]?.remoteRef ?? null;
  const record = (body: GateRecordRequest) => input.link.post("/v1/gate/records", body);
  if (refusal && input.emergency === null) {
    await record({ kind: "refused", remote, shas, ref, reason: `${refusal.rule}: ${refusal.reason}` }).catch(
      () => undefined,
    );
    return { ok: false, refusal, emergency: null, shas, agent };
  }
  if (input.emergency !== null) {
    await record({
      kind: "emergency",
      remote,
      shas,
      ref,
      reason: input.emergency,
      refusal: `${refusal ? `${refusal.rule}: ${refusal.reason}` : "none by the content rules"}; CI and the tests were not run`,
    });
    return { ok: true, refusal, emergency: input.emergency, shas, agent };
  }
  if (shas.length > 0) await record({ kind: "passed", remote, shas, ref });
  return { ok: true, refusal: null, emergency: null, shas, agent };
}

/** commit-msg: adds `Flotilla-Tier: fallback` when the gateway's last answer to this agent came from a fallback tier. */
export async function markFallbackCommit(
  cwd: string,
  messageFile: string,
  link: DaemonLink,
): Promise<boolean> {
  const context = await link.post<GateContext>("/v1/gate/context", { remote: "", tip: null });
  if (context.tier !== "fallback") return false;
  await git(cwd, [
    "interpret-trailers",
    "--in-place",
    "--if-exists",
    "addIfDifferent",
    "--trailer",
    "Flotilla-Tier: fallback",
    messageFile,
  ]);
  return true;
}
