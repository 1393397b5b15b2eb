/**
 * The diagnosis model, called straight at the providers of `watchdog.model`'s chain (never through the
 * gateway, which may be the thing that is down): one attempt per chain entry, the next key on 401/429, the
 * next entry on any other failure, all within one time budget. Keys are read from the env as references say
 * and never appear in a reason.
 */
import { outboundFetch } from "../../net/outbound.ts";
import type { FlotillaConfig } from "../../config/schema.ts";
import { resolveSecret } from "../../config/secrets.ts";

export type ModelCallResult = { ok: true; text: string; model: string } | { ok: false; reason: string };

type Provider = FlotillaConfig["providers"][number];

const LIMITS = {
  /** Output tokens asked for: a diagnosis and a few argv arrays. */
  maxTokens: 1024,
  /** Bytes of an answer read; a larger one counts as unparseable. */
  maxAnswerBytes: 1024 * 1024,
  anthropicVersion: "2023-06-01",
};

type Attempt =
  | { kind: "answer"; text: string }
  /** `nextKey`: this key is refused or rate limited; another key of the same provider may do. */
  | { kind: "failed"; reason: string; nextKey: boolean };

function request(provider: Provider, model: string, key: string, prompt: { system: string; user: string }) {
  const base = provider.baseUrl.replace(/\/$/, "");
  if (provider.kind === "openai")
    return {
      url: `${base}/chat/completions`,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: {
        model,
        messages: [
          { role: "system", content: prompt.system },
          { role: "user", content: prompt.user },
        ],
        max_tokens: LIMITS.maxTokens,
        temperature: 0,
      },
    };
  return {
    url: `${base.replace(/\/v1$/, "")}/v1/messages`,
    headers: {
      "x-api-key": key,
      "anthropic-version": LIMITS.anthropicVersion,
      "content-type": "application/json",
    },
    body: {
      model,
      system: prompt.system,
      messages: [{ role: "user", content: prompt.user }],
      max_tokens: LIMITS.maxTokens,
      temperature: 0,
    },
  };
}

/** The answer's text, read up to the cap; undefined past it. */
async function readCapped(res: Response): Promise<string | undefined> {
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > LIMITS.maxAnswerBytes) {
      await res.body.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The model's text in either wire format, or undefined when the body is not a completion. */
function completionText(kind: Provider["kind"], body: unknown): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  if (kind === "openai") {
    const content = (body as { choices?: Array<{ message?: { content?: unknown } }> }).choices?.[0]?.message
      ?.content;
    return typeof content === "string" ? content : undefined;
  }
  const parts = (body as { content?: unknown }).content;
  if (!Array.isArray(parts)) return undefined;
  const texts = parts.filter(
    (p): p is { text: string } => typeof (p as { text?: unknown })?.text === "string",
  );
  return texts.length > 0 ? texts.map((p) => p.text).join("") : undefined;
}

async function attempt(
  provider: Provider,
  model: string,
  key: string,
  prompt: { system: string; user: string },
  timeoutMs: number,
): Promise<Attempt> {
  const { url, headers, body } = request(provider, model, key, prompt);
  let res: Response;
  try {
    res = await outboundFetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const error = err as Error & { cause?: { code?: string } };
    if (error.name === "TimeoutError")
      return { kind: "failed", reason: `no answer within ${timeoutMs} ms`, nextKey: false };
    return { kind: "failed", reason: `unreachable (${error.cause?.code ?? error.message})`, nextKey: false };
  }
  let text: string | undefined;
  try {
    text = await readCapped(res);
  } catch (err) {
    const timedOut = (err as Error).name === "TimeoutError";
    return {
      kind: "failed",
      reason: timedOut ? `answer cut at ${timeoutMs} ms` : "answer broke off",
      nextKey: false,
    };
  }
  if (!res.ok) {
    const what = res.status === 429 ? "rate limited (429)" : `answered ${res.status}`;
    return { kind: "failed", reason: what, nextKey: res.status === 401 || res.status === 429 };
  }
  if (text === undefined)
    return { kind: "failed", reason: `answer larger than ${LIMITS.maxAnswerBytes} bytes`, nextKey: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: "failed", reason: "answer is not JSON", nextKey: false };
  }
  const content = completionText(provider.kind, parsed);
  if (content === undefined)
    return { kind: "failed", reason: "answer holds no completion text", nextKey: false };
  return { kind: "answer", text: content };
}

/**
 * Asks `watchdog.model` once, walking its chain; returns the first answer's text, or why there is none, and
 * how many requests it took. Never throws.
 */
export async function callDiagnosisModel(
  config: FlotillaConfig,
  env: NodeJS.ProcessEnv,
  prompt: { system: string; user: string },
  timeoutMs: number,
): Promise<{ result: ModelCallResult; calls: number }> {
  const name = config.watchdog.model;
  if (name === undefined) return { result: { ok: false, reason: "no watchdog.model" }, calls: 0 };
  const chain = config.models[name] ?? [];
  const deadline = Date.now() + timeoutMs;
  const failures: string[] = [];
  let calls = 0;
  for (const entry of chain) {
    const where = `${entry.provider}/${entry.model}`;
    const provider = config.providers.find((p) => p.id === entry.provider);
    if (!provider) {
      failures.push(`${where}: no provider "${entry.provider}"`);
      continue;
    }
    if (provider.auth) {
      // Trading a refresh token would race the gateway's own refresh (and could retire its token).
      failures.push(`${where}: skipped (OAuth2 provider; the watchdog uses providers with plain keys only)`);
      continue;
    }
    for (const [index, ref] of provider.keys.entries()) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let key: string;
      try {
        key = resolveSecret(ref, `providers.${provider.id}.keys[${index}]`, env);
      } catch (err) {
        failures.push(`${where}: ${(err as Error).message}`);
        continue;
      }
      calls++;
      const outcome = await attempt(provider, entry.model, key, prompt, Math.min(left, provider.timeout));
      if (outcome.kind === "answer") return { result: { ok: true, text: outcome.text, model: where }, calls };
      failures.push(`${where} key ${index + 1}: ${outcome.reason}`);
      if (!outcome.nextKey) break;
    }
    if (deadline - Date.now() <= 0) {
      failures.push(`out of time (watchdog.diagnosisTimeout ${timeoutMs} ms)`);
      break;
    }
  }
  if (chain.length === 0) failures.push(`no logical model "${name}" under models`);
  return { result: { ok: false, reason: failures.join("; ") }, calls };
}
