/** The contract every alert channel keeps, and the one place that builds a channel from its config. */
import type { AlertChannelConfig } from "../../config/schema.ts";
import { resolveSecret } from "../../config/secrets.ts";
import type { Alert } from "../alert.ts";
import { deliveryError } from "../post-json.ts";
import { discordChannel } from "./discord.ts";
import { fileChannel } from "./file.ts";
import { slackChannel } from "./slack.ts";
import { stdoutChannel } from "./stdout.ts";
import { telegramChannel } from "./telegram.ts";
import { webhookChannel } from "./webhook.ts";

/** Delivers one alert or throws a FLOTILLA_E_DELIVERY error; it never retries (the dispatcher does). */
export type SendAlert = (alert: Alert, signal: AbortSignal) => Promise<void>;

export interface ChannelDeps {
  /** Values of the { env } secret references, handed to the daemon by the CLI. */
  secrets: NodeJS.ProcessEnv;
  /** Where the stdout channel writes (the daemon's stdout). */
  writeStdout: (text: string) => void;
}

/** The channel's sender; secrets are resolved at each send, so a rotated file is read again. */
export function channelSender(config: AlertChannelConfig, deps: ChannelDeps): SendAlert {
  const where = `alerts.${config.id}`;
  const secret = (field: "url" | "token"): string => {
    const ref = config[field];
    if (!ref) throw deliveryError(where, `${config.kind} needs ${field}`);
    return resolveSecret(ref, `${where}.${field}`, deps.secrets);
  };
  const url = (): string => {
    const value = secret("url");
    if (!/^https?:\/\//.test(value)) throw deliveryError(where, "the url secret is not an http(s) URL");
    return value;
  };
  const post = { where, timeoutMs: config.timeout, outside: true };
  switch (config.kind) {
    case "webhook":
      return webhookChannel(url, post);
    case "slack":
      return slackChannel(url, post);
    case "discord":
      return discordChannel(url, post);
    case "telegram":
      return telegramChannel(
        { apiUrl: config.apiUrl, token: () => secret("token"), chatId: config.chatId ?? "" },
        post,
      );
    case "file":
      return fileChannel(config.path ?? "", where);
    case "stdout":
      return stdoutChannel(deps.writeStdout);
  }
}
