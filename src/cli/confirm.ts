/** Asking the operator on a terminal before a change: yes only for "y" or "yes". */
import { createInterface } from "node:readline/promises";

/** True when stdin is a terminal a person can answer on (and the output is not JSON). */
export function canAsk(json: boolean): boolean {
  return process.stdin.isTTY === true && !json;
}

export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
