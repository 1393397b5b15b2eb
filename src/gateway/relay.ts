/** Sends a provider's good answer back: unchanged when the protocols match, translated chunk by chunk when not. */
import type { Usage } from "./accounting.ts";
import { errorResponse, sendError, streamErrorEvent } from "./errors.ts";
import { drained } from "./request-body.ts";
import type { RouteContext, Tier } from "./router.ts";
import { responseFor, streamFor, usageOf } from "./translate.ts";
import { createUsageTap } from "./usage-tap.ts";
import type { UpstreamResponse } from "./upstream.ts";

export interface RelayOptions extends RouteContext {
  response: UpstreamResponse;
  /** A non-streamed answer, already read whole (the router reads it before it counts as good). */
  whole: Buffer | undefined;
  providerKind: "openai" | "anthropic";
  providerId: string;
  model: string;
  tier: Tier;
  attempts: number;
  contextPressure: number;
  waitedMs: number;
  /** Called once with the real usage (if seen), to reconcile the limiter and release the key. */
  onDone: (usage: Usage | undefined) => void;
}

function markHeaders(o: RelayOptions): Record<string, string> {
  return { "x-flotilla-provider": o.providerId, "x-flotilla-model": o.model, "x-flotilla-tier": o.tier };
}

export async function relayResponse(o: RelayOptions): Promise<void> {
  let usage: Usage | undefined;
  let status = 200;
  try {
    if (!o.stream) {
      const bytes = o.whole ?? (await o.response.body.bytes());
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
      } catch {
        status = 502;
        return sendError(
          o.res,
          errorResponse(o.client, 502, `${o.providerId} answered with something that is not JSON`),
        );
      }
      usage = usageOf(o.providerKind, json);
      // Same protocol: the provider's own bytes go back (they parse; re-encoding them costs a stringify).
      const body =
        o.client === o.providerKind
          ? bytes
          : Buffer.from(JSON.stringify(responseFor(o.client, o.providerKind, json, o.model)));
      o.res.writeHead(200, {
        "content-type": "application/json",
        "content-length": body.length,
        ...markHeaders(o),
      });
      o.res.end(body);
      return;
    }
    o.res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      ...markHeaders(o),
    });
    o.res.flushHeaders();
    const source = o.response.body;
    if (o.client === o.providerKind) {
      const tap = createUsageTap(o.providerKind);
      for await (const chunk of source) {
        tap.push(chunk);
        // A caller reading slowly: stop pulling, so the upstream is paused once 64 KB wait.
        if (!o.res.write(chunk)) await drained(o.res);
      }
      usage = tap.usage();
    } else {
      const stream = streamFor(o.client, o.providerKind, source, o.model, (seen) => {
        usage = seen;
      });
      for await (const text of stream) if (!o.res.write(text)) await drained(o.res);
    }
    o.res.end();
  } catch (err) {
    status = o.signal.aborted ? 499 : 502;
    if (o.signal.aborted || o.res.destroyed) o.res.destroy();
    else {
      // The provider's stream broke off: the agent hears so in its own protocol, and its stream ends.
      const message = `${o.providerId}: the stream broke off (${(err as Error).message})`;
      o.event("gateway.stream_broken", { provider: o.providerId, error: (err as Error).message });
      o.res.end(streamErrorEvent(o.client, message));
    }
  } finally {
    o.onDone(usage);
    o.accounting.record({
      agent: o.agent,
      provider: o.providerId,
      model: o.model,
      tier: o.tier,
      usage,
      latencyMs: Date.now() - o.started,
      status,
      attempts: o.attempts,
      stream: o.stream,
      contextPressure: o.contextPressure,
      fingerprint: o.fingerprint,
    });
  }
}
