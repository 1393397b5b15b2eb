/**
 * One JSON POST to an alert receiver or an agent, with a deadline and a cap on the answer read back. Its
 * errors name the channel and what went wrong (a status, a timeout, a refused connection), never the URL:
 * a webhook URL or a bot API path carries its secret.
 */
import { FlotillaError } from "../errors.ts";
import { outboundDispatcher } from "../net/outbound.ts";

/** Bytes of a receiver's answer that are read (the rest is dropped); answers are short acknowledgements. */
export const ANSWER_CAP_BYTES = 64 * 1024;

export interface PostOptions {
  /** Names the target in errors: "alerts.ops" or "oversight.inject". */
  where: string;
  timeoutMs: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** A receiver outside the machine (an alert channel): through the proxy when one is set (net/outbound.ts). */
  outside?: boolean;
}

/** The error a failed delivery throws: its message is safe to record (no URL, no token). */
export function deliveryError(where: string, reason: string): FlotillaError {
  return new FlotillaError("FLOTILLA_E_DELIVERY", `${where}: ${reason}`);
}

/** Why a request failed, in words that hold no URL: the error code of the socket, or a timeout. */
function reasonOf(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${timeoutMs} ms`;
  const code = (err as { code?: unknown }).code;
  const cause = (err as { cause?: { code?: unknown } }).cause?.code;
  const known = typeof code === "string" ? code : typeof cause === "string" ? cause : undefined;
  if (known === "ECONNREFUSED") return "connection refused";
  if (known === "ABORT_ERR" || (err as Error).name === "AbortError") return "cancelled";
  return known ? `network error (${known})` : "network error";
}

/** POSTs body as JSON; resolves with the status and the start of the answer when the status is 2xx. */
export async function postJson(
  url: string,
  body: unknown,
  options: PostOptions,
): Promise<{ status: number; answer: string }> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  let status: number;
  let answer: string;
  try {
    // Loaded at the first delivery, not with the daemon: undici costs about 28 MB RSS, and a fleet
    // without alerts never sends one.
    const { request } = await import("undici");
    const dispatcher = options.outside ? await outboundDispatcher() : undefined;
    const response = await request(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...options.headers },
      body: JSON.stringify(body),
      signal,
      ...(dispatcher ? { dispatcher } : {}),
    });
    status = response.statusCode;
    answer = await readCapped(response.body);
  } catch (err) {
    // The cause is left out: undici's errors may quote the URL.
    throw deliveryError(options.where, reasonOf(err, deadline.aborted, options.timeoutMs));
  }
  if (status < 200 || status > 299) throw deliveryError(options.where, `the receiver answered ${status}`);
  return { status, answer };
}

/** The answer as text, at most ANSWER_CAP_BYTES of it; the connection is dropped past the cap. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= ANSWER_CAP_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, ANSWER_CAP_BYTES).toString("utf8");
}
