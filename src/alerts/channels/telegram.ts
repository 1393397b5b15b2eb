/** The Telegram Bot API: POST <apiUrl>/bot<token>/sendMessage with chat_id and text. */
import type { Alert } from "../alert.ts";
import { alertText, clip } from "../alert.ts";
import { deliveryError, type PostOptions, postJson } from "../post-json.ts";
import type { SendAlert } from "./channel.ts";

/** Telegram's limit on a message's text. */
const TEXT_MAX = 4096;

export interface TelegramTarget {
  apiUrl: string;
  token: () => string;
  chatId: string;
}

/** Plain text (no parse_mode): evidence may hold characters Markdown or HTML would take as markup. */
export function telegramBody(alert: Alert, chatId: string) {
  return { chat_id: chatId, text: clip(alertText(alert), TEXT_MAX), disable_web_page_preview: true };
}

export function telegramChannel(target: TelegramTarget, post: PostOptions): SendAlert {
  return async function sendTelegram(alert, signal) {
    const url = `${target.apiUrl.replace(/\/+$/, "")}/bot${target.token()}/sendMessage`;
    const { answer } = await postJson(url, telegramBody(alert, target.chatId), { ...post, signal });
    // The Bot API says { ok: false, description } when it refuses, sometimes with a 2xx status.
    let ok = false;
    try {
      ok = (JSON.parse(answer) as { ok?: unknown }).ok === true;
    } catch {
      // not JSON: refused below
    }
    if (!ok) throw deliveryError(post.where, "the Bot API did not answer ok: true");
  };
}
