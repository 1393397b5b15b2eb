/** Renders the config reference (Markdown) from the JSON Schema: every field, its type, default and description. */
import { configJsonSchema } from "./schema.ts";

interface SchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  additionalProperties?: SchemaNode | boolean;
}

function typeOf(node: SchemaNode): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  if (node.anyOf) return node.anyOf.map(typeOf).join(" \\| ");
  if (node.type === "array") return `${node.items ? typeOf(node.items) : "any"}[]`;
  if (node.type === "object" && node.properties) return `{ ${Object.keys(node.properties).join(", ")} }`;
  if (node.type === "object") return "map";
  return Array.isArray(node.type) ? node.type.join(" \\| ") : (node.type ?? "any");
}

function rows(node: SchemaNode, prefix: string, out: string[], seen = new Set<string>()): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = `${prefix}${key}`;
    if (seen.has(path)) continue;
    seen.add(path);
    const required = node.required?.includes(key) && child.default === undefined ? "yes" : "";
    const def = child.default === undefined ? "" : `\`${JSON.stringify(child.default)}\``;
    out.push(`| \`${path}\` | ${typeOf(child)} | ${required} | ${def} | ${child.description ?? ""} |`);
    if (child.properties) rows(child, `${path}.`, out, seen);
    if (child.items?.properties) rows(child.items, `${path}[].`, out, seen);
    for (const variant of child.anyOf ?? []) if (variant.properties) rows(variant, `${path}.`, out, seen);
  }
}

export function renderConfigReference(): string {
  const out = [
    "# flotilla.yaml reference",
    "",
    "Generated from the schema by `npm run docs:config`; a test fails when this page is stale.",
    "Durations are written like `500ms`, `30s`, `15m`, `2h`; sizes like `512M`, `2G`.",
    "Secrets are references, never inline: `{ env: NAME }` or `{ file: path }`.",
    "",
    "| field | type | required | default | description |",
    "|---|---|---|---|---|",
  ];
  rows(configJsonSchema() as SchemaNode, "", out);
  return `${out.join("\n")}\n`;
}
