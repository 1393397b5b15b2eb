/** The example agent as a real child process on loopback: health, chat (plain, streamed, through a stub upstream), faults and grandchildren. */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { readProc } from "../../src/supervisor/process-tree.ts";
import { EXAMPLE_AGENT, freePorts, NODE, pidAlive, waitFor } from "../support/fleet.ts";

interface Agent {
  child: ChildProcessWithoutNullStreams;
  port: number;
  url: string;
  workspace: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Completion {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: Array<{ index: number; message: { role: string; content: string }; finish_reason: string }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/**
 * Starts the agent in a temp workspace on a free port; SIGKILL and cleanup run in t.after. The env is built
 * from scratch so the runner's own OPENAI_* variables can never send a test to a real provider.
 */
async function startAgent(
  t: TestContext,
  options: { env?: Record<string, string>; args?: string[]; waitForListen?: boolean } = {},
): Promise<Agent> {
  const [port = 0] = await freePorts(1);
  const workspace = mkdtempSync(join(tmpdir(), "flotilla-example-"));
  const child = spawn(NODE, [EXAMPLE_AGENT, ...(options.args ?? [])], {
    cwd: workspace,
    env: {
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      FLOTILLA_WORKSPACE: workspace,
      ...options.env,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    rmSync(workspace, { recursive: true, force: true });
  });
  const agent = {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    workspace,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
  };
  if (options.waitForListen !== false)
    await waitFor(() => stdout.includes(" listening on "), `the agent to listen (stderr: ${stderr})`);
  return agent;
}

function chat(agent: Agent, body: unknown, session?: string): Promise<Response> {
  return fetch(`${agent.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(session ? { "x-openclaw-session-key": session } : {}),
    },
    body: JSON.stringify(body),
  });
}

function assertCompletion(body: Completion, model: string): void {
  assert.match(body.id, /^chatcmpl-/);
  assert.equal(body.object, "chat.completion");
  assert.equal(typeof body.created, "number");
  assert.equal(body.model, model);
  assert.equal(body.choices.length, 1);
  assert.equal(body.choices[0]?.message.role, "assistant");
  assert.equal(body.choices[0]?.finish_reason, "stop");
  assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
}

test("health answers with name, pid and uptime, and the listening line names them", async (t) => {
  const agent = await startAgent(t, { env: { FLOTILLA_AGENT_NAME: "tester" } });
  const res = await fetch(`${agent.url}/health`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as {
    ok: boolean;
    name: string;
    pid: number;
    startedAt: number;
    uptimeSec: number;
  };
  assert.deepEqual(body, {
    ok: true,
    name: "tester",
    pid: agent.child.pid,
    startedAt: body.startedAt,
    uptimeSec: body.uptimeSec,
  });
  assert.ok(Math.abs(Date.now() - body.startedAt) < 60_000, "startedAt says when this start was");
  assert.equal(typeof body.uptimeSec, "number");
  assert.equal(
    agent.stdout(),
    `example-agent tester listening on 127.0.0.1:${agent.port} pid=${agent.child.pid}\n`,
  );
  const missing = await fetch(`${agent.url}/nope`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: { type: string } }).error.type, "invalid_request_error");
});

test("SIGTERM closes the server and exits 0, even with a hung request open", async (t) => {
  const agent = await startAgent(t);
  agent.child.kill("SIGTERM");
  assert.deepEqual(await agent.exited, { code: 0, signal: null });

  const hung = await startAgent(t, { env: { FLOTILLA_EXAMPLE_FAULT: "hang" } });
  const probe = fetch(`${hung.url}/health`).catch((err: Error) => err);
  // A round trip on the same agent, so the probe is most likely in and held before the signal.
  assert.equal((await fetch(`${hung.url}/fault`, { method: "POST", body: "[]" })).status, 400);
  hung.child.kill("SIGTERM");
  assert.deepEqual(await hung.exited, { code: 0, signal: null });
  assert.ok((await probe) instanceof Error, "the hung probe never got an answer");
});

test("a missing PORT or an unknown fault exits 2 with one clear line", async (t) => {
  const noPort = await startAgent(t, { env: { PORT: "" }, waitForListen: false });
  assert.equal((await noPort.exited).code, 2);
  assert.equal(noPort.stderr(), "example-agent: PORT must be the port to listen on (1-65535), got nothing\n");

  const agent = await startAgent(t, { args: ["--fault", "explode"], waitForListen: false });
  assert.equal((await agent.exited).code, 2);
  assert.match(agent.stderr(), /^example-agent: unknown fault "explode"; use one of: /);
});

test("a chat completion logs the task to its session, writes a work file and answers OpenAI-style", async (t) => {
  const agent = await startAgent(t);
  const task = "Summarise the incident report for the coder and propose a fix";
  const res = await chat(
    agent,
    {
      model: "openclaw/default",
      messages: [
        { role: "system", content: "You are a helpful agent." },
        { role: "user", content: task },
      ],
    },
    "run/42",
  );
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const body = (await res.json()) as Completion;
  assertCompletion(body, "openclaw/default");
  const answer = body.choices[0]?.message.content ?? "";
  const [workFile = ""] = readdirSync(join(agent.workspace, "work"));
  assert.match(workFile, /^\d+-run_42\.md$/, "the session key is made safe for a file name");
  assert.equal(answer, `Done: ${task}; notes in work/${workFile}`);
  assert.match(readFileSync(join(agent.workspace, "sessions/run_42.md"), "utf8"), new RegExp(task));
  const work = readFileSync(join(agent.workspace, "work", workFile), "utf8");
  assert.ok(work.includes(task) && work.includes(answer), work);

  const second = await chat(agent, { messages: [{ role: "user", content: "and test it" }] }, "run/42");
  assert.equal(
    ((await second.json()) as Completion).model,
    "example",
    "a request without a model still gets one",
  );
  const session = readFileSync(join(agent.workspace, "sessions/run_42.md"), "utf8");
  assert.ok(session.indexOf(task) < session.indexOf("and test it"), "tasks are appended in order");
  assert.equal(readdirSync(join(agent.workspace, "work")).length, 2);
});

test("bad requests get 400 with an OpenAI-style error and the agent stays up", async (t) => {
  const agent = await startAgent(t);
  const notJson = await fetch(`${agent.url}/v1/chat/completions`, { method: "POST", body: "{oops" });
  assert.equal(notJson.status, 400);
  const error = ((await notJson.json()) as { error: { message: string; type: string } }).error;
  assert.equal(error.type, "invalid_request_error");
  assert.match(error.message, /JSON/);
  for (const body of [null, { messages: [] }, { messages: [null] }]) {
    const res = await chat(agent, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    await res.body?.cancel();
  }
  assert.equal((await fetch(`${agent.url}/health`)).status, 200);
});

test("stream: true gives chat.completion.chunk frames that add up to the answer, then [DONE]", async (t) => {
  const agent = await startAgent(t);
  const res = await chat(
    agent,
    {
      model: "m",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "stream me a plan" }],
    },
    "s",
  );
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const frames = (await res.text()).split("\n\n").filter(Boolean);
  assert.equal(frames.at(-1), "data: [DONE]");
  const chunks = frames.slice(0, -1).map((frame) => {
    assert.match(frame, /^data: /);
    return JSON.parse(frame.slice(6)) as {
      id: string;
      object: string;
      choices: Array<{ delta: { role?: string; content?: string }; finish_reason: string | null }>;
      usage?: { total_tokens: number };
    };
  });
  assert.ok(chunks.length >= 4);
  assert.ok(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0]?.id));
  assert.equal(chunks[0]?.choices[0]?.delta.role, "assistant");
  const content = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
  const [workFile] = readdirSync(join(agent.workspace, "work"));
  assert.equal(content, `Done: stream me a plan; notes in work/${workFile}`);
  assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, "stop");
  assert.deepEqual(chunks.at(-1)?.choices, [], "include_usage adds a last chunk with usage only");
  assert.equal(typeof chunks.at(-1)?.usage?.total_tokens, "number");
});

test("fault crash exits non-zero with the error on stderr", async (t) => {
  const agent = await startAgent(t, { args: ["--fault", "crash"], waitForListen: false });
  const { code } = await agent.exited;
  assert.notEqual(code, 0);
  assert.match(agent.stderr(), /crashing on purpose/);
});

test("fault exit:3 exits 3, after FLOTILLA_EXAMPLE_FAULT_AFTER", async (t) => {
  const agent = await startAgent(t, {
    env: { FLOTILLA_EXAMPLE_FAULT: "exit:3", FLOTILLA_EXAMPLE_FAULT_AFTER: "1000" },
  });
  assert.equal((await fetch(`${agent.url}/health`)).status, 200, "healthy until the delay is over");
  assert.deepEqual(await agent.exited, { code: 3, signal: null });
});

test("fault ignore-term survives SIGTERM and keeps serving; only SIGKILL ends it", async (t) => {
  const agent = await startAgent(t, { env: { FLOTILLA_EXAMPLE_FAULT: "ignore-term" } });
  agent.child.kill("SIGTERM");
  await waitFor(() => agent.stdout().includes("ignoring SIGTERM"), "the agent to report the ignored SIGTERM");
  assert.equal((await fetch(`${agent.url}/health`)).status, 200);
  assert.equal(pidAlive(agent.child.pid ?? 0), true);
  agent.child.kill("SIGKILL");
  assert.deepEqual(await agent.exited, { code: null, signal: "SIGKILL" });
});

test("fault unhealthy gives 503 on /health, and POST /fault switches faults at run time", async (t) => {
  const sick = await startAgent(t, { env: { FLOTILLA_EXAMPLE_FAULT: "unhealthy" } });
  const res = await fetch(`${sick.url}/health`);
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { ok: boolean }).ok, false);

  const setFault = async (body: unknown) =>
    (await fetch(`${sick.url}/fault`, { method: "POST", body: JSON.stringify(body) })).status;
  assert.equal(await setFault({ mode: "none" }), 200);
  assert.equal((await fetch(`${sick.url}/health`)).status, 200);
  assert.equal(await setFault({ mode: "sideways" }), 400);
  assert.equal(await setFault({ mode: "hang" }), 200);
  await assert.rejects(
    fetch(`${sick.url}/health`, { signal: AbortSignal.timeout(300) }),
    (err: Error) => err.name === "TimeoutError",
    "a hung agent holds the request without answering",
  );
  assert.equal(await setFault({ mode: "exit:7" }), 200);
  assert.equal((await sick.exited).code, 7);
});

test("FLOTILLA_EXAMPLE_CHILDREN writes live grandchild pids, in our group and in groups of their own", async (t) => {
  const agent = await startAgent(t, { env: { FLOTILLA_EXAMPLE_CHILDREN: "3" } });
  const file = join(agent.workspace, "children.json");
  const pids = await waitFor(() => {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as number[];
    } catch {
      return undefined;
    }
  }, "children.json");
  t.after(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
  assert.equal(pids.length, 3);
  assert.ok(
    pids.every((pid) => pidAlive(pid)),
    "every listed child is alive",
  );
  const agentGroup = readProc(agent.child.pid ?? 0)?.pgid;
  if (agentGroup === undefined) return t.skip("no /proc here to read process groups from");
  const groups = pids.map((pid) => readProc(pid)?.pgid);
  assert.ok(groups.includes(agentGroup), "at least one child shares the agent's process group");
  assert.ok(
    pids.some((pid, i) => groups[i] === pid),
    "at least one child leads a process group of its own",
  );
});

test("with OPENAI_BASE_URL and OPENAI_API_KEY it thinks through that upstream", async (t) => {
  const seen: Array<{
    url: string;
    headers: IncomingHttpHeaders;
    body: { model: string; messages: unknown[] };
  }> = [];
  let status = 200;
  const stub = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on("end", () => {
      seen.push({
        url: req.url ?? "",
        headers: req.headers,
        body: JSON.parse(text) as { model: string; messages: unknown[] },
      });
      if (status !== 200) {
        res.writeHead(status, { "content-type": "application/json" });
        return res.end('{"error":{"message":"overloaded"}}');
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "up-1",
          object: "chat.completion",
          choices: [
            { index: 0, message: { role: "assistant", content: "stub says ship it" }, finish_reason: "stop" },
          ],
          usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => stub.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => stub.close(() => resolve())));
  const upstream = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1/`;

  const agent = await startAgent(t, { env: { OPENAI_BASE_URL: upstream, OPENAI_API_KEY: "vk-test-123" } });
  const messages = [{ role: "user", content: "should we deploy?" }];
  const res = await chat(agent, { model: "flotilla/fast", messages }, "deploy");
  assert.equal(res.status, 200);
  const body = (await res.json()) as Completion;
  assertCompletion(body, "flotilla/fast");
  assert.equal(body.choices[0]?.message.content, "stub says ship it");
  assert.deepEqual(body.usage, { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.url, "/v1/chat/completions");
  assert.equal(seen[0]?.headers.authorization, "Bearer vk-test-123");
  assert.deepEqual(seen[0]?.body.messages, messages);
  assert.equal(seen[0]?.body.model, "flotilla/fast");
  const [workFile = ""] = readdirSync(join(agent.workspace, "work"));
  assert.match(readFileSync(join(agent.workspace, "work", workFile), "utf8"), /stub says ship it/);

  status = 500;
  const failed = await chat(agent, { messages }, "deploy");
  assert.equal(failed.status, 502);
  const error = ((await failed.json()) as { error: { message: string; type: string } }).error;
  assert.equal(error.type, "upstream_error");
  assert.match(error.message, /upstream answered 500/);
  assert.doesNotMatch(error.message, /vk-test-123/, "the key never shows in an error");
});
