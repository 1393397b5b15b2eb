/**
 * A config whose text holds the value of one of its own secret references (a key pasted into a comment or an
 * agent's args, say) is refused: the secret would sit in plain text in a file agents can read, and every
 * backup would replace it with `<secret env:NAME>`, so a restore of that backup (the watchdog's too) would be
 * refused for the placeholder. The problem names the line and the reference, never the value.
 */
import type { ConfigProblem } from "./load.ts";
import type { FlotillaConfig } from "./schema.ts";
import { resolvedSecrets } from "./secrets.ts";

export function plainSecretProblems(
  text: string,
  file: string,
  config: FlotillaConfig,
  env: NodeJS.ProcessEnv,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const secret of resolvedSecrets(config, env)) {
    const at = text.indexOf(secret.value);
    if (at === -1) continue;
    problems.push({
      file,
      line: text.slice(0, at).split("\n").length,
      path: `secret ${secret.label}`,
      message: `the value of this secret is written here in plain text; remove it and use the reference ({ ${secret.label.replace(":", ": ")} }) wherever it is needed (a backup would replace it with a placeholder, and a restore of that backup would be refused)`,
    });
  }
  return problems.sort((a, b) => a.line - b.line);
}
