/** The generic webhook: the finding as JSON, for receivers of the operator's own. */
import type { Alert } from "../alert.ts";
import { alertText, alertTitle } from "../alert.ts";
import { type PostOptions, postJson } from "../post-json.ts";
import type { SendAlert } from "./channel.ts";

/** The body a webhook receives; `type` and `version` let a receiver tell it apart and evolve. */
export function webhookBody(alert: Alert) {
  return {
    type: "flotilla.finding",
    version: 1,
    title: alertTitle(alert),
    text: alertText(alert),
    finding: alert.finding,
    run: alert.run,
    repeats: alert.repeats,
    escalatedAfter: alert.escalatedAfter ?? null,
  };
}

export function webhookChannel(url: () => string, post: PostOptions): SendAlert {
  return async function sendWebhook(alert, signal) {
    await postJson(url(), webhookBody(alert), { ...post, signal });
  };
}
