/** Slack incoming webhooks: `text` (the notification's fallback) and Block Kit `blocks`. */
import type { Alert } from "../alert.ts";
import { alertLines, alertText, alertTitle, clip } from "../alert.ts";
import { type PostOptions, postJson } from "../post-json.ts";
import type { SendAlert } from "./channel.ts";

/** Slack's limits: a header's text 150 characters, a section's text 3,000. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;

/** Slack's mrkdwn treats &, < and > as control characters. */
const escape = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

export function slackBody(alert: Alert) {
  return {
    text: clip(alertText(alert), SECTION_MAX),
    blocks: [
      { type: "header", text: { type: "plain_text", text: clip(alertTitle(alert), HEADER_MAX) } },
      {
        type: "section",
        text: { type: "mrkdwn", text: clip(escape(alertLines(alert).slice(0, -1).join("\n")), SECTION_MAX) },
      },
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: escape(alertLines(alert).at(-1) ?? "") }],
      },
    ],
  };
}

export function slackChannel(url: () => string, post: PostOptions): SendAlert {
  return async function sendSlack(alert, signal) {
    await postJson(url(), slackBody(alert), { ...post, signal });
  };
}
