/** Validates a config proposed for `config apply` or `restore`, as the text of the live config file, in one line. */
import { readFileSync } from "node:fs";
import { FlotillaError } from "../errors.ts";
import { formatProblems, type LoadedConfig, resolveConfig, validateConfigText } from "../config/load.ts";
import { fixedSectionProblem } from "./plan.ts";
import { plainSecretProblems } from "../config/plain-secrets.ts";

/** Reads a proposed config file; a missing or unreadable file is a clear error. */
export function readProposed(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    throw new FlotillaError(
      "FLOTILLA_E_CONFIG_NOT_FOUND",
      `${file}: cannot read the proposed config; check the path`,
      {
        cause,
      },
    );
  }
}

/**
 * Validates `text` (named `source` in messages) and resolves its paths as if it were `liveFile`, whose
 * content it will become. The first problem is reported on one line, with a count of the others.
 */
export function validateProposed(text: string, source: string, liveFile: string): LoadedConfig {
  const result = validateConfigText(text, source);
  if (!result.ok) {
    const [first, ...rest] = result.problems;
    const more = rest.length > 0 ? ` (and ${rest.length} more; run "flotilla validate -c ${source}")` : "";
    throw new FlotillaError(
      "FLOTILLA_E_CONFIG_INVALID",
      `${first ? formatProblems([first]) : source}${more}; nothing was changed`,
    );
  }
  const loaded = resolveConfig(result.config, liveFile);
  const [plain, ...others] = plainSecretProblems(text, source, loaded.config, process.env);
  if (plain) {
    const more = others.length > 0 ? ` (and ${others.length} more)` : "";
    throw new FlotillaError(
      "FLOTILLA_E_CONFIG_INVALID",
      `${formatProblems([plain])}${more}; nothing was changed`,
    );
  }
  return loaded;
}

/** Rejects changes to sections a running daemon cannot take (stateDir, api, version). */
export function checkFixedSections(running: LoadedConfig, next: LoadedConfig, source: string): void {
  const problem = fixedSectionProblem(running.config, next.config);
  if (problem) throw new FlotillaError("FLOTILLA_E_CONFIG_INVALID", `${source}: ${problem}`);
}
