/**
 * A small example agent for the demo, the tests and drills: an HTTP server on $PORT with GET /health and an
 * OpenAI-compatible POST /v1/chat/completions that writes its work into its workspace. Faults on request.
 */
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { fault: { type: "string" } }, strict: false });
const name = process.env.FLOTILLA_AGENT_NAME ?? "example";
const workspace = process.env.FLOTILLA_WORKSPACE ?? process.cwd();
const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write("example-agent: set PORT to the port to listen on (1-65535)\n");
  process.exit(2);
}

let fault = String(values.fault ?? process.env.FLOTILLA_EXAMPLE_FAULT ?? "");
const faultAfterMs = Number(process.env.FLOTILLA_EXAMPLE_FAULT_AFTER ?? 0);
const startedAt = Date.now();

interface ChatMessage {
  role: string;
  content: unknown;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (part as { text?: string }).text ?? "").join("");
  return "";
}

/** Thinks through the gateway when one is configured, else answers deterministically. */
async function think(messages: ChatMessage[], task: string, workFile: string): Promise<string> {
  const base = process.env.OPENAI_BASE_URL;
  const key = process.env.OPENAI_API_KEY;
  if (!base || !key) return `Done: ${task.slice(0, 80)}; notes in ${workFile}`;
  const res = await fetch(`${base.replace(/\/$/, "")}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: process.env.FLOTILLA_MODEL ?? "default", messages }),
  });
  if (!res.ok) throw new Error(`upstream answered ${res.status}`);
  const body = (await res.json()) as { choices?: Array<{ message?: { content?: string } }> };
  return body.choices?.[0]?.message?.content ?? "";
}

async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: { model?: string; messages?: ChatMessage[]; stream?: boolean };
  try {
    body = JSON.parse(await readBody(req)) as typeof body;
  } catch {
    return json(res, 400, { error: { message: "the body is not JSON", type: "invalid_request_error" } });
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return json(res, 400, {
      error: { message: "messages must be a non-empty array", type: "invalid_request_error" },
    });
  }
  const header = req.headers["x-openclaw-session-key"] ?? req.headers["x-session-key"];
  const session = String(header ?? "default").replace(/[^A-Za-z0-9_.-]/g, "_");
  const task = textOf([...body.messages].reverse().find((m) => m.role === "user")?.content);
  const workFile = join("work", `${Date.now()}-${session}.md`);
  mkdirSync(join(workspace, "sessions"), { recursive: true });
  mkdirSync(join(workspace, "work"), { recursive: true });
  appendFileSync(join(workspace, "sessions", `${session}.md`), `## ${new Date().toISOString()}\n${task}\n\n`);
  let answer: string;
  try {
    answer = await think(body.messages, task, workFile);
  } catch (err) {
    return json(res, 502, {
      error: { message: `thinking failed: ${(err as Error).message}`, type: "upstream_error" },
    });
  }
  writeFileSync(join(workspace, workFile), `# Task\n${task}\n\n# Answer\n${answer}\n`);
  const id = `chatcmpl-${Date.now().toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = body.model ?? "example";
  const usage = {
    prompt_tokens: Math.ceil(task.length / 4),
    completion_tokens: Math.ceil(answer.length / 4),
  };
  if (body.stream) {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: "assistant", content: "" }, null));
    for (const word of answer.split(/(?<= )/)) res.write(chunk({ content: word }, null));
    res.write(chunk({}, "stop"));
    return void res.end("data: [DONE]\n\n");
  }
  json(res, 200, {
    id,
    object: "chat.completion",
    created,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: answer }, finish_reason: "stop" }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  });
}

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  if (req.method === "GET" && url === "/health") {
    if (fault === "hang") return; // keep the socket, never answer
    if (fault === "unhealthy") return json(res, 503, { ok: false, name });
    return json(res, 200, {
      ok: true,
      name,
      pid: process.pid,
      uptimeSec: Math.floor((Date.now() - startedAt) / 1000),
    });
  }
  if (req.method === "POST" && url === "/v1/chat/completions") return void chat(req, res);
  if (req.method === "POST" && url === "/fault") {
    return void readBody(req).then((text) => {
      fault = String((JSON.parse(text || "{}") as { mode?: string }).mode ?? "");
      json(res, 200, { fault });
      applyFault();
    });
  }
  json(res, 404, { error: { message: `no route ${req.method} ${url}`, type: "not_found" } });
});

/** Crash, exit and SIGTERM faults act on their own; health faults act in the handler. */
function applyFault(): void {
  const act = () => {
    if (fault === "crash") throw new Error("example-agent: crashing on purpose (fault=crash)");
    if (fault === "exit") process.exit(0);
    if (fault.startsWith("exit:")) process.exit(Number(fault.slice(5)));
  };
  if (fault === "crash" || fault === "exit" || fault.startsWith("exit:")) setTimeout(act, faultAfterMs);
}

/** Sleeper grandchildren, half in our process group and at least one in a group of its own (as OpenClaw does). */
function spawnChildren(count: number): void {
  const pids: number[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1e9)"], {
      stdio: "ignore",
      detached: i % 2 === 0,
    });
    if (child.pid !== undefined) pids.push(child.pid);
  }
  writeFileSync(join(workspace, "children.json"), JSON.stringify(pids));
}

process.on("SIGTERM", () => {
  if (fault === "ignore-term")
    return process.stdout.write("example-agent: ignoring SIGTERM (fault=ignore-term)\n");
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
});

const listen = () =>
  server.listen(port, "127.0.0.1", () => {
    process.stdout.write(`example-agent ${name} listening on 127.0.0.1:${port} pid=${process.pid}\n`);
    const children = Number(process.env.FLOTILLA_EXAMPLE_CHILDREN ?? 0);
    if (children > 0) spawnChildren(children);
    applyFault();
  });
const slowStart = /^slow-start:(\d+)$/.exec(fault);
if (slowStart) setTimeout(listen, Number(slowStart[1]));
else listen();
