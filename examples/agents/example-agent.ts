/**
 * The example agent: a dependency-free OpenAI-compatible HTTP agent with /health and scripted faults, for the
 * demo, tests and drills. POST /v1/oversight takes Flotilla's injected findings (oversight.inject.url): they
 * are logged to the session and put first in its next task.
 */
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";

const SHUTDOWN_GRACE_MS = 1_000; // ms: after SIGTERM, exit even if a connection lingers (a hung probe, a slow upstream)
const UPSTREAM_TIMEOUT_MS = 120_000; // ms: one non-streaming call to OPENAI_BASE_URL
const MAX_BODY_BYTES = 8 * 1024 * 1024; // a request body larger than this gets 413
const TASK_PREVIEW_CHARS = 80; // how much of the task the deterministic answer quotes
const MODES = "none, crash, exit, exit:<code>, hang, unhealthy, ignore-term, slow-start:<ms>";
// A grandchild that only sleeps. The marker helps `ps`; it must not contain "example-agent.ts", which finds agents.
const SLEEPER = "setInterval(() => {}, 1e9); // flotilla-example-child";

interface Upstream {
  readonly baseUrl: string;
  readonly apiKey: string;
  /** FLOTILLA_MODEL; when unset the request's own model is forwarded. */
  readonly model: string | undefined;
}

interface AgentOptions {
  readonly name: string;
  readonly port: number;
  readonly workspace: string;
  readonly fault: string;
  readonly faultAfterMs: number;
  readonly children: number;
  readonly upstream: Upstream | undefined;
  /** FLOTILLA_AGENT_KEY: an injection must carry it, so another agent cannot forge one. */
  readonly agentKey: string;
}

/** Findings oversight injected, by id, not yet put into a task. */
type Inbox = Map<string, string>;

interface ChatMessage {
  role: string;
  content: unknown;
}

interface ChatRequest {
  /** Ids of the injected findings this task carries first. */
  oversight: string[];
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  includeUsage: boolean;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The canonical fault mode ("none" when unset), or undefined when the text names no mode. */
function parseFault(text: string): string | undefined {
  const mode = text.trim() || "none";
  if (["none", "crash", "exit", "hang", "unhealthy", "ignore-term"].includes(mode)) return mode;
  const exit = /^exit:(\d{1,3})$/.exec(mode);
  if (exit && Number(exit[1]) <= 255) return `exit:${Number(exit[1])}`;
  return /^slow-start:\d+$/.test(mode) ? mode : undefined;
}

function count(text: string | undefined): number | undefined {
  const trimmed = (text ?? "").trim();
  if (trimmed === "") return 0;
  return /^\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** Reads argv and env once; a string is the first problem, as one line for stderr. */
function readOptions(argv: string[], env: NodeJS.ProcessEnv): AgentOptions | string {
  let flag: string | undefined;
  try {
    flag = parseArgs({ args: argv, options: { fault: { type: "string" } } }).values.fault;
  } catch (err) {
    return `${(err as Error).message}; usage: example-agent.ts [--fault MODE]`;
  }
  const port = /^\d+$/.test(env.PORT ?? "") ? Number(env.PORT) : 0;
  if (port < 1 || port > 65535)
    return `PORT must be the port to listen on (1-65535), got ${env.PORT ? JSON.stringify(env.PORT) : "nothing"}`;
  const faultText = flag ?? env.FLOTILLA_EXAMPLE_FAULT ?? "";
  const fault = parseFault(faultText);
  if (fault === undefined) return `unknown fault ${JSON.stringify(faultText)}; use one of: ${MODES}`;
  const faultAfterMs = count(env.FLOTILLA_EXAMPLE_FAULT_AFTER);
  if (faultAfterMs === undefined)
    return "FLOTILLA_EXAMPLE_FAULT_AFTER must be a delay in ms (a whole number)";
  const children = count(env.FLOTILLA_EXAMPLE_CHILDREN);
  if (children === undefined) return "FLOTILLA_EXAMPLE_CHILDREN must be a whole number";
  const baseUrl = env.OPENAI_BASE_URL ?? "";
  const apiKey = env.OPENAI_API_KEY ?? "";
  if (baseUrl && !URL.canParse(baseUrl)) return `OPENAI_BASE_URL is not a URL: ${JSON.stringify(baseUrl)}`;
  return Object.freeze({
    name: env.FLOTILLA_AGENT_NAME || "example",
    port,
    workspace: env.FLOTILLA_WORKSPACE || process.cwd(),
    fault,
    faultAfterMs,
    children,
    upstream: baseUrl && apiKey ? { baseUrl, apiKey, model: env.FLOTILLA_MODEL || undefined } : undefined,
    agentKey: env.FLOTILLA_AGENT_KEY ?? "",
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type = "invalid_request_error",
): void {
  send(res, status, { error: { message, type } });
}

/** The body as text, or undefined when it is over MAX_BODY_BYTES (the rest is drained, so a 413 can still go out). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const parts: unknown[] = content;
  return parts.map((part) => (isObject(part) && typeof part.text === "string" ? part.text : "")).join("");
}

/** Checks the parts of an OpenAI chat request this agent uses; a string is what is wrong. */
function parseChatRequest(body: unknown): ChatRequest | string {
  if (!isObject(body)) return "the body must be a JSON object";
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return "messages must be a non-empty array";
  const messages: unknown[] = body.messages;
  const bad = messages.findIndex((m) => !isObject(m) || typeof m.role !== "string");
  if (bad !== -1) return `messages[${bad}] must be an object with a string role`;
  const streamOptions = isObject(body.stream_options) ? body.stream_options : {};
  return {
    oversight: [],
    model: typeof body.model === "string" && body.model ? body.model : "example",
    messages: messages as ChatMessage[],
    stream: body.stream === true,
    includeUsage: streamOptions.include_usage === true,
  };
}

const tokens = (text: string) => Math.ceil(text.length / 4);

/** Asks OPENAI_BASE_URL for the answer (non-streaming), sending OPENAI_API_KEY as a bearer token. */
async function askUpstream(
  upstream: Upstream,
  request: ChatRequest,
  signal: AbortSignal,
): Promise<{ answer: string; usage: Usage | undefined }> {
  const url = `${upstream.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${upstream.apiKey}` },
    body: JSON.stringify({
      model: upstream.model ?? request.model,
      messages: request.messages,
      stream: false,
    }),
    signal: AbortSignal.any([signal, AbortSignal.timeout(UPSTREAM_TIMEOUT_MS)]),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`upstream answered ${res.status}: ${text.slice(0, 200)}`);
  let body: { choices?: Array<{ message?: { content?: unknown } }>; usage?: Usage };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error("upstream answered with a body that is not JSON");
  }
  const answer = body.choices?.[0]?.message?.content;
  if (typeof answer !== "string") throw new Error("upstream answer has no choices[0].message.content");
  return { answer, usage: typeof body.usage?.total_tokens === "number" ? body.usage : undefined };
}

/** Creates work/<ms>-<session>.md empty (suffixed -2, -3… on a clash) and returns its workspace-relative path. */
function reserveWorkFile(workspace: string, session: string): string {
  mkdirSync(join(workspace, "work"), { recursive: true });
  const stamp = Date.now();
  for (let n = 1; ; n++) {
    const file = `work/${stamp}-${session}${n === 1 ? "" : `-${n}`}.md`;
    try {
      writeFileSync(join(workspace, file), "", { flag: "wx" });
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
}

function sendCompletion(res: ServerResponse, request: ChatRequest, answer: string, usage: Usage): void {
  const id = `chatcmpl-${crypto.randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const head = (object: string) => ({ id, object, created, model: request.model });
  if (!request.stream) {
    const message = { role: "assistant", content: answer };
    send(res, 200, {
      ...head("chat.completion"),
      choices: [{ index: 0, message, finish_reason: "stop" }],
      usage,
    });
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const frame = (body: object) =>
    res.write(`data: ${JSON.stringify({ ...head("chat.completion.chunk"), ...body })}\n\n`);
  const choice = (delta: object, finish: string | null) => ({
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  frame(choice({ role: "assistant", content: "" }, null));
  for (const word of answer.split(/(?<= )/)) frame(choice({ content: word }, null));
  frame(choice({}, "stop"));
  if (request.includeUsage) frame({ choices: [], usage });
  res.end("data: [DONE]\n\n");
}

/** The request with the inbox's findings first, as a system message the model reads before the task; the inbox is emptied. */
function withOversight(request: ChatRequest, inbox: Inbox): ChatRequest {
  if (inbox.size === 0) return request;
  const content = `Oversight (address this before any other work):\n\n${[...inbox.values()].join("\n\n")}`;
  const oversight = [...inbox.keys()];
  inbox.clear();
  return { ...request, oversight, messages: [{ role: "system", content }, ...request.messages] };
}

/** Whether the request carries this agent's own key (compared in constant time). */
function fromFlotilla(options: AgentOptions, req: IncomingMessage): boolean {
  const given = Buffer.from(String(req.headers.authorization ?? ""));
  const expected = Buffer.from(`Bearer ${options.agentKey}`);
  return options.agentKey !== "" && given.length === expected.length && timingSafeEqual(given, expected);
}

/** POST /v1/oversight: an injected finding ({ message, finding: { id } }), logged to the session and queued for the next task. */
async function injected(
  options: AgentOptions,
  inbox: Inbox,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!fromFlotilla(options, req))
    return sendError(res, 401, "an injection must carry this agent's FLOTILLA_AGENT_KEY as a bearer token");
  const text = await readBody(req);
  if (text === undefined) return sendError(res, 413, `the body is over ${MAX_BODY_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return sendError(res, 400, "the body is not valid JSON");
  }
  const finding = isObject(body) && isObject(body.finding) ? body.finding : {};
  if (!isObject(body) || typeof body.message !== "string" || typeof finding.id !== "string")
    return sendError(res, 400, "the body must be { message: string, finding: { id: string } }");
  inbox.set(finding.id, body.message);
  mkdirSync(join(options.workspace, "sessions"), { recursive: true });
  appendFileSync(
    join(options.workspace, "sessions", "oversight.md"),
    `## ${new Date().toISOString()} finding ${finding.id}\n\n${body.message}\n\n`,
  );
  send(res, 202, { ok: true, pending: inbox.size });
}

/** POST /v1/chat/completions: log the task to the session, think, write the answer to a work file, reply. */
async function chat(
  options: AgentOptions,
  inbox: Inbox,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const text = await readBody(req);
  if (text === undefined) return sendError(res, 413, `the body is over ${MAX_BODY_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return sendError(res, 400, "the body is not valid JSON");
  }
  const parsedRequest = parseChatRequest(parsed);
  if (typeof parsedRequest === "string") return sendError(res, 400, parsedRequest);
  const request = withOversight(parsedRequest, inbox);
  const header = req.headers["x-openclaw-session-key"] ?? req.headers["x-session-key"];
  const session =
    String(header ?? "")
      .replace(/[^A-Za-z0-9_.-]/g, "_")
      .slice(0, 100) || "default";
  const task = textOf(request.messages.findLast((m) => m.role === "user")?.content);
  const { workspace } = options;
  const workFile = reserveWorkFile(workspace, session);
  mkdirSync(join(workspace, "sessions"), { recursive: true });
  appendFileSync(
    join(workspace, "sessions", `${session}.md`),
    `## ${new Date().toISOString()} → ${workFile}\n\n${task}\n\n`,
  );

  const first = request.oversight.length > 0 ? `Oversight first: ${request.oversight.join(", ")}. ` : "";
  let answer = `${first}Done: ${task.slice(0, TASK_PREVIEW_CHARS)}; notes in ${workFile}`;
  let usage: Usage | undefined;
  if (options.upstream) {
    const gone = new AbortController();
    res.on("close", () => gone.abort());
    try {
      ({ answer, usage } = await askUpstream(options.upstream, request, gone.signal));
    } catch (err) {
      const message = `thinking failed: ${(err as Error).message}`;
      writeFileSync(join(workspace, workFile), `# Task\n\n${task}\n\n# Error\n\n${message}\n`);
      return sendError(res, 502, message, "upstream_error");
    }
  }
  writeFileSync(join(workspace, workFile), `# Task\n\n${task}\n\n# Answer\n\n${answer}\n`);
  const prompt = tokens(request.messages.map((m) => textOf(m.content)).join("\n"));
  usage ??= {
    prompt_tokens: prompt,
    completion_tokens: tokens(answer),
    total_tokens: prompt + tokens(answer),
  };
  sendCompletion(res, request, answer, usage);
}

/** Sleeper grandchildren: the even-numbered ones in a process group of their own (as OpenClaw does), the rest in ours. */
function spawnSleepers(options: AgentOptions): void {
  const pids: number[] = [];
  for (let i = 0; i < options.children; i++) {
    const child = spawn(process.execPath, ["-e", SLEEPER], { stdio: "ignore", detached: i % 2 === 0 });
    child.on("error", (err) =>
      process.stderr.write(`example-agent: a child failed to start: ${err.message}\n`),
    );
    if (child.pid !== undefined) pids.push(child.pid);
  }
  // Deliberately never reaped or killed on exit: leaving them behind is the supervisor's problem to solve.
  const file = join(options.workspace, "children.json");
  mkdirSync(options.workspace, { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(pids)}\n`);
  renameSync(`${file}.tmp`, file); // readers never see a half-written list
}

/** Builds the server and its fault switch, listens (late under slow-start), and handles SIGTERM. */
function runAgent(options: AgentOptions): void {
  const startedAt = Date.now();
  let fault = "none";
  let pending: NodeJS.Timeout | undefined;
  let closing = false;
  const inbox: Inbox = new Map();

  // Crash and exit act once; hang, unhealthy and ignore-term stay in force until switched off.
  const activate = (mode: string) => {
    fault = mode;
    if (mode === "crash") throw new Error("example-agent: crashing on purpose (fault=crash)");
    if (mode === "exit" || mode.startsWith("exit:")) process.exit(Number(mode.slice(5)) || 0);
  };
  const schedule = (mode: string, afterMs: number) => {
    clearTimeout(pending);
    if (afterMs === 0) return activate(mode);
    pending = setTimeout(() => activate(mode), afterMs);
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://agent").pathname;
    const route = `${req.method} ${path}`;
    if (route === "POST /fault") return setFault(req, res);
    if (fault === "hang") return; // hold the socket open and never answer
    if (route === "GET /health") {
      const body = {
        ok: fault !== "unhealthy",
        name: options.name,
        pid: process.pid,
        // Which start this is: pids repeat inside a sandbox's own PID namespace.
        startedAt,
        uptimeSec: Math.floor((Date.now() - startedAt) / 1000),
      };
      return send(res, body.ok ? 200 : 503, body.ok ? body : { ...body, fault });
    }
    if (route === "POST /v1/oversight") {
      injected(options, inbox, req, res).catch((err: Error) => res.destroy(err));
      return;
    }
    if (route === "POST /v1/chat/completions") {
      chat(options, inbox, req, res).catch((err: Error) => {
        if (!res.headersSent) return sendError(res, 500, `example-agent: ${err.message}`, "server_error");
        res.destroy(err);
      });
      return;
    }
    sendError(
      res,
      404,
      `no route ${route}; try GET /health, POST /v1/chat/completions or POST /v1/oversight`,
    );
  });

  const setFault = (req: IncomingMessage, res: ServerResponse) => {
    readBody(req).then(
      (text) => {
        let body: unknown;
        try {
          body = JSON.parse(text || "{}");
        } catch {
          return sendError(res, 400, "the body is not valid JSON");
        }
        if (!isObject(body)) return sendError(res, 400, "the body must be a JSON object");
        const mode = typeof body.mode === "string" ? parseFault(body.mode) : undefined;
        if (mode === undefined || mode.startsWith("slow-start:"))
          return sendError(res, 400, `mode must be one of: ${MODES.replace(", slow-start:<ms>", "")}`);
        const afterMs = typeof body.afterMs === "number" && body.afterMs > 0 ? body.afterMs : 0;
        // Act once the answer is out, so a drill that asks for a crash still hears back.
        res.on("finish", () => schedule(mode, afterMs));
        send(res, 200, { ok: true, mode, afterMs });
      },
      (err: Error) => res.destroy(err),
    );
  };

  server.on("error", (err) => {
    process.stderr.write(`example-agent: cannot listen on 127.0.0.1:${options.port}: ${err.message}\n`);
    process.exit(1);
  });

  const shutdown = () => {
    if (closing) return;
    closing = true;
    clearTimeout(pending);
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS);
  };
  process.on("SIGTERM", () => {
    if (fault !== "ignore-term") return shutdown();
    process.stdout.write("example-agent: ignoring SIGTERM (fault=ignore-term)\n");
  });
  process.on("SIGINT", shutdown); // even under ignore-term, so Ctrl-C ends a drill

  const listen = () =>
    server.listen(options.port, "127.0.0.1", () => {
      process.stdout.write(
        `example-agent ${options.name} listening on 127.0.0.1:${options.port} pid=${process.pid}\n`,
      );
      if (options.children > 0) spawnSleepers(options);
      if (options.fault !== "none" && !options.fault.startsWith("slow-start:"))
        schedule(options.fault, options.faultAfterMs);
    });
  if (options.fault.startsWith("slow-start:")) setTimeout(listen, Number(options.fault.slice(11)));
  else listen();
}

const options = readOptions(process.argv.slice(2), process.env);
if (typeof options === "string") {
  process.stderr.write(`example-agent: ${options}\n`);
  process.exit(2);
}
runAgent(options);
