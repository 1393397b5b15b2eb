/** `flotilla constitution show|amend|history`: the articles, with their amendments from the ledger. */
import { type Article, toRoman } from "../constitution/articles.ts";
import type { Amendment } from "../constitution/records.ts";
import { stamp } from "../constitution/brief.ts";
import { FlotillaError } from "../errors.ts";
import { changeConstitution, withConstitution } from "./constitution-access.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";

const USAGE =
  'flotilla constitution show | amend "<text>" --article N --reason "..." | history [-c FILE] [--json]';

function renderShow(path: string, missing: boolean, articles: Article[], amendments: Amendment[]): string {
  if (articles.length === 0)
    return missing
      ? `no constitution at ${path}; "flotilla init" writes a starter`
      : `${path} has no articles; write numbered headings such as "## Article I: Quality over speed"`;
  const version = amendments.length + 1;
  const lines = [`${path} (version ${version}; Article I is supreme)`, ""];
  for (const a of articles) {
    lines.push(`Article ${a.numeral}: ${a.title}`);
    if (a.body) lines.push(...a.body.split("\n").map((l) => `  ${l}`));
    for (const x of amendments.filter((m) => m.article === a.number))
      lines.push(`  Amendment v${x.version} (${stamp(x.ts)}): ${x.text}`, `    reason: ${x.reason}`);
    lines.push("");
  }
  return lines.join("\n");
}

function renderHistory(amendments: Amendment[]): string {
  if (amendments.length === 0) return "no amendments; the constitution is at version 1 (the file as written)";
  return amendments
    .map(
      (a) =>
        `v${a.version}  ${stamp(a.ts)}  Article ${toRoman(a.article)}: ${a.text}\n      reason: ${a.reason}`,
    )
    .join("\n");
}

export const constitutionCommand: Command = {
  name: "constitution",
  summary: "Show the articles and amendments, amend an article, or list the amendment history",
  usage: USAGE,
  options: { article: { type: "string" }, reason: { type: "string" } },
  async run(input) {
    const [action, ...rest] = input.positionals;
    const { config } = loadForCli(input);
    if (action === "show" || action === "history") {
      const { file, amendments } = withConstitution(config, (c) => ({
        file: c.articles(),
        amendments: c.amendments(),
      }));
      if (action === "history") {
        if (input.json) printJson({ version: amendments.length + 1, amendments });
        else print(renderHistory(amendments));
        return 0;
      }
      if (input.json)
        printJson({
          path: file.path,
          missing: file.missing,
          version: amendments.length + 1,
          articles: file.articles,
          amendments,
        });
      else print(renderShow(file.path, file.missing, file.articles, amendments));
      return 0;
    }
    if (action === "amend") {
      if (rest.length > 1)
        throw new FlotillaError(
          "FLOTILLA_E_USAGE",
          `quote the amendment text as one argument; usage: ${USAGE}`,
        );
      const request = {
        ...(typeof input.values.article === "string" ? { article: input.values.article } : {}),
        ...(rest[0] !== undefined ? { text: rest[0] } : {}),
        ...(typeof input.values.reason === "string" ? { reason: input.values.reason } : {}),
      };
      const amendment = await changeConstitution(
        config,
        async (client) =>
          (await client.post<{ amendment: Amendment }>("/v1/constitution/amendments", request)).amendment,
        (c) => c.amend(request),
      );
      if (input.json) printJson({ amendment });
      else
        print(
          `recorded amendment v${amendment.version} to Article ${toRoman(amendment.article)}; agents read it at their next start`,
        );
      return 0;
    }
    throw new FlotillaError("FLOTILLA_E_USAGE", `say show, amend or history; usage: ${USAGE}`);
  },
};
