/** An append-only file of JSON lines, created 0600: one alert a line, for log shippers and audits. */
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { deliveryError } from "../post-json.ts";
import type { SendAlert } from "./channel.ts";
import { webhookBody } from "./webhook.ts";

export function fileChannel(path: string, where: string): SendAlert {
  return async function appendAlert(alert) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      // mode applies only when the file is created; an existing file keeps its own.
      appendFileSync(path, `${JSON.stringify({ ts: new Date().toISOString(), ...webhookBody(alert) })}\n`, {
        mode: 0o600,
        flag: "a",
      });
    } catch (err) {
      throw deliveryError(
        where,
        `cannot append to ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  };
}
