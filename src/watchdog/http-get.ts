/** One GET with a hard timeout and no connection reuse: a hung (SIGSTOPped) server reads as a timeout, never a wait. */
import type { IncomingHttpHeaders } from "node:http";

// getBuiltinModule: the plain node:http exports, without the ESM namespace that loads undici.
const { request } = process.getBuiltinModule("node:http");

export type GetResult = { ok: true; status: number; body: string } | { ok: false; error: string };

/** GETs url; never throws. The body is cut at 1 MB. */
export function httpGet(
  url: string,
  timeoutMs: number,
  headers: IncomingHttpHeaders = {},
): Promise<GetResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: GetResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    let req: ReturnType<typeof request>;
    try {
      req = request(url, { method: "GET", headers, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (body.length < 1_048_576) body += chunk;
        });
        res.once("end", () => finish({ ok: true, status: res.statusCode ?? 0, body }));
        res.once("error", (err) => finish({ ok: false, error: err.message }));
      });
    } catch (err) {
      resolve({ ok: false, error: (err as Error).message });
      return;
    }
    // One deadline for the whole exchange (connect, headers and body), not an idle timeout.
    const timer = setTimeout(() => {
      finish({ ok: false, error: `no answer within ${timeoutMs}ms` });
      req.destroy();
    }, timeoutMs);
    req.once("error", (err) => finish({ ok: false, error: err.message }));
    req.end();
  });
}
