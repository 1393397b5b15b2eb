/** Discord incoming webhooks: `content` and one embed with the finding's fields. */
import type { Alert } from "../alert.ts";
import { alertTitle, clip } from "../alert.ts";
import { type PostOptions, postJson } from "../post-json.ts";
import type { SendAlert } from "./channel.ts";

/** Discord's limits: content 2,000, an embed's title 256, description 4,096, a field's value 1,024. */
const CONTENT_MAX = 2000;
const TITLE_MAX = 256;
const DESCRIPTION_MAX = 4096;
const FIELD_MAX = 1024;

/** Embed colours by severity (decimal RGB, as Discord takes them). */
const COLOURS = { info: 0x3498db, warning: 0xf1c40f, critical: 0xe74c3c } as const;

export function discordBody(alert: Alert) {
  const { finding } = alert;
  const fields = [
    { name: "Do", value: clip(finding.suggestion, FIELD_MAX), inline: false },
    ...(finding.article ? [{ name: "Article", value: clip(finding.article, FIELD_MAX), inline: true }] : []),
    ...(finding.agent ? [{ name: "Agent", value: finding.agent, inline: true }] : []),
    ...(alert.repeats > 0 ? [{ name: "Repeats", value: String(alert.repeats), inline: true }] : []),
  ];
  return {
    content: clip(alertTitle(alert), CONTENT_MAX),
    // No pings from text the finding quotes.
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: clip(`${finding.check}: ${finding.id}`, TITLE_MAX),
        description: clip(finding.evidence, DESCRIPTION_MAX),
        color: COLOURS[finding.severity],
        fields,
        footer: { text: `run ${alert.run}` },
        timestamp: new Date(finding.lastSeen).toISOString(),
      },
    ],
  };
}

export function discordChannel(url: () => string, post: PostOptions): SendAlert {
  return async function sendDiscord(alert, signal) {
    await postJson(url(), discordBody(alert), { ...post, signal });
  };
}
