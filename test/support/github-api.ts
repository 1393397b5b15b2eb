/**
 * A loopback server that answers like GitHub's REST API for commit statuses and check runs
 * (GET /repos/{owner}/{repo}/commits/{ref}/status and .../check-runs), from a table the test fills.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";

export interface CommitCi {
  statuses?: Array<{ state: "success" | "failure" | "error" | "pending"; context: string }>;
  checkRuns?: Array<{
    name: string;
    status: "queued" | "in_progress" | "completed";
    conclusion: string | null;
  }>;
}

export interface FakeGithub {
  url: string;
  /** OWNER/NAME → sha → what CI says; a sha not in it answers 422 "No commit found", as GitHub does. */
  commits: Map<string, CommitCi>;
  /** Authorization headers seen. */
  auth: string[];
}

function combinedState(ci: CommitCi): string {
  const states = (ci.statuses ?? []).map((s) => s.state);
  if (states.some((s) => s === "failure" || s === "error")) return "failure";
  if (states.length === 0 || states.includes("pending")) return "pending";
  return "success";
}

/** Starts the server for repository `repo` (OWNER/NAME); it closes after the test. */
export async function fakeGithub(t: TestContext, repo: string): Promise<FakeGithub> {
  const commits = new Map<string, CommitCi>();
  const auth: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    auth.push(req.headers.authorization ?? "");
    const match = /^\/repos\/([^/]+\/[^/]+)\/commits\/([0-9a-f]+)\/(status|check-runs)(\?.*)?$/.exec(
      req.url ?? "",
    );
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (!match || match[1] !== repo)
      return send(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
    const sha = match[2] ?? "";
    const ci = commits.get(sha);
    if (!ci)
      return send(422, {
        message: `No commit found for SHA: ${sha}`,
        documentation_url: "https://docs.github.com/rest",
      });
    if (match[3] === "status") {
      const statuses = (ci.statuses ?? []).map((s, id) => ({
        id,
        state: s.state,
        context: s.context,
        description: `${s.context} ${s.state}`,
        target_url: `https://ci.example.test/${id}`,
        created_at: "2026-12-07T10:00:00Z",
        updated_at: "2026-12-07T10:00:00Z",
      }));
      return send(200, {
        state: combinedState(ci),
        sha,
        total_count: statuses.length,
        statuses,
        repository: { full_name: repo },
      });
    }
    const checkRuns = (ci.checkRuns ?? []).map((r, id) => ({
      id,
      head_sha: sha,
      name: r.name,
      status: r.status,
      conclusion: r.conclusion,
      html_url: `https://github.example.test/${repo}/runs/${id}`,
      started_at: "2026-12-07T10:00:00Z",
      completed_at: r.status === "completed" ? "2026-12-07T10:05:00Z" : null,
    }));
    return send(200, { total_count: checkRuns.length, check_runs: checkRuns });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, commits, auth };
}
