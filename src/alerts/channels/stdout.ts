/** Alerts on the daemon's stdout (the terminal of a foreground `up`, or daemon.log when detached). */
import { alertText } from "../alert.ts";
import type { SendAlert } from "./channel.ts";

export function stdoutChannel(write: (text: string) => void): SendAlert {
  return async function printAlert(alert) {
    write(`${alertText(alert).replaceAll("\n", "\n  ")}\n`);
  };
}
