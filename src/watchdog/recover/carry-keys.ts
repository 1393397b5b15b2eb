/**
 * Keys added since the last known good survive its restore: provider key references and agents' secret
 * env references of a newer config that the last known good lacks are written into its text with the
 * yaml Document API (its comments and layout kept). Only references move: never a secret value.
 */
import { isMap, isSeq, parseDocument, type YAMLMap } from "yaml";
import type { FlotillaConfig, SecretRef } from "../../config/schema.ts";

const label = (ref: SecretRef): string => ("env" in ref ? `env:${ref.env}` : `file:${ref.file}`);
const sameRef = (a: unknown, b: SecretRef): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The item of a sequence of maps whose `field` is `value`. */
function itemWhere(seq: unknown, field: string, value: string): YAMLMap | undefined {
  if (!isSeq(seq)) return undefined;
  return seq.items.find((item): item is YAMLMap => isMap(item) && item.get(field) === value);
}

export interface CarriedKeys {
  text: string;
  /** One line per reference carried: "providers.sim.keys: env:SIM_KEY_2". */
  kept: string[];
}

/**
 * The last known good's text with the references `newer` adds (for providers and agents both configs
 * have); `lkgText` unchanged, byte for byte, when there is nothing to carry.
 */
export function carryKeys(lkgText: string, lkg: FlotillaConfig, newer: FlotillaConfig): CarriedKeys {
  const doc = parseDocument(lkgText);
  const kept: string[] = [];
  for (const provider of newer.providers) {
    const old = lkg.providers.find((p) => p.id === provider.id);
    if (!old) continue;
    const node = itemWhere(doc.get("providers"), "id", provider.id);
    const keys = node?.get("keys");
    if (!isSeq(keys)) continue;
    for (const key of provider.keys) {
      if (old.keys.some((k) => sameRef(k, key))) continue;
      keys.add(doc.createNode(key));
      kept.push(`providers.${provider.id}.keys: ${label(key)}`);
    }
  }
  for (const agent of newer.agents) {
    const old = lkg.agents.find((a) => a.name === agent.name);
    if (!old) continue;
    const node = itemWhere(doc.get("agents"), "name", agent.name);
    if (!node) continue;
    for (const [name, value] of Object.entries(agent.env)) {
      if (typeof value !== "object" || sameRef(old.env[name], value)) continue;
      if (!isMap(node.get("env"))) node.set("env", doc.createNode({}));
      const env = node.get("env") as YAMLMap;
      env.set(name, doc.createNode(value));
      kept.push(`agents.${agent.name}.env.${name}: ${label(value)}`);
    }
  }
  return { text: kept.length > 0 ? doc.toString() : lkgText, kept };
}
