/**
 * What a config change does to a running fleet: which agents start, stop or restart, and which settings
 * change. Pure and free of the schema library, so the CLI (to show it) and the daemon (to carry it out)
 * compute the same plan.
 */
import type { FleetWiring } from "../fleet/fleet-wiring.ts";
import type { AgentConfig, FlotillaConfig } from "../config/schema.ts";

/** A config together with what the CLI derived from it (the gateway process, the agents' injected env). */
export interface FleetSpec {
  config: FlotillaConfig;
  wiring: FleetWiring;
}

/** One agent whose settings changed, and the names of the settings. */
export interface AgentChange {
  name: string;
  fields: string[];
}

export interface Plan {
  add: string[];
  remove: string[];
  restart: AgentChange[];
  keep: string[];
  /** Top-level sections that changed (agents excluded). */
  settings: string[];
}

/** Sections the daemon cannot change while it runs: a new value needs `flotilla down` and `up`. */
export const FIXED_SECTIONS = ["version", "stateDir", "api"] as const;
/** Sections each of Flotilla's own processes reads from the config file at its start. */
const INTERNAL_SECTIONS: Record<string, string[]> = {
  gateway: ["gateway", "providers", "models"],
  simulator: ["simulator"],
};
/** Sections every agent's process depends on. */
const FLEET_SECTIONS = ["inheritEnv", "logs"];

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Why a config cannot be applied to a running daemon (it changes a fixed section), or undefined. */
export function fixedSectionProblem(before: FlotillaConfig, after: FlotillaConfig): string | undefined {
  const key = FIXED_SECTIONS.find((k) => !same(before[k], after[k]));
  if (key === undefined) return undefined;
  return `${key}: cannot change while the fleet runs (running: ${JSON.stringify(before[key])}); run "flotilla down", edit the file, then "flotilla up"; nothing was changed`;
}

/** Every process the daemon supervises for this spec, internal ones (the gateway) first. */
export function fleetOf(spec: FleetSpec): AgentConfig[] {
  return [...spec.wiring.internal, ...spec.config.agents];
}

function changedFields(before: AgentConfig, after: AgentConfig): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .filter((key) => !same(before[key as keyof AgentConfig], after[key as keyof AgentConfig]))
    .sort();
}

/** The settings sections that differ between two configs. */
export function changedSections(before: FlotillaConfig, after: FlotillaConfig): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  keys.delete("agents");
  return [...keys]
    .filter((key) => !same(before[key as keyof FlotillaConfig], after[key as keyof FlotillaConfig]))
    .sort();
}

/** Computes the plan for moving a fleet from `before` to `after`. */
export function computePlan(before: FleetSpec, after: FleetSpec): Plan {
  const settings = changedSections(before.config, after.config);
  const old = new Map(fleetOf(before).map((agent) => [agent.name, agent]));
  const plan: Plan = { add: [], remove: [], restart: [], keep: [], settings };
  const fleetWide = settings.filter((s) => FLEET_SECTIONS.includes(s));
  for (const agent of fleetOf(after)) {
    const previous = old.get(agent.name);
    old.delete(agent.name);
    if (!previous) {
      plan.add.push(agent.name);
      continue;
    }
    const fields = changedFields(previous, agent);
    const internal = after.wiring.internal.some((a) => a.name === agent.name);
    if (!same(before.wiring.agentEnv[agent.name], after.wiring.agentEnv[agent.name]))
      fields.push("(gateway wiring)");
    fields.push(...fleetWide);
    if (internal) fields.push(...settings.filter((s) => INTERNAL_SECTIONS[agent.name]?.includes(s)));
    if (fields.length > 0) plan.restart.push({ name: agent.name, fields: [...new Set(fields)] });
    else plan.keep.push(agent.name);
  }
  plan.remove.push(...old.keys());
  return plan;
}

/** True when applying the plan changes nothing at all. */
export function planIsEmpty(plan: Plan): boolean {
  return plan.add.length + plan.remove.length + plan.restart.length + plan.settings.length === 0;
}

/** The plan as lines an operator reads: secrets appear only as their references. */
export function renderPlan(plan: Plan): string {
  const lines: string[] = [];
  for (const name of plan.add) lines.push(`  + start   ${name}`);
  for (const name of plan.remove) lines.push(`  - stop    ${name}`);
  for (const change of plan.restart) lines.push(`  ~ restart ${change.name} (${change.fields.join(", ")})`);
  if (plan.keep.length > 0) lines.push(`  = keep    ${plan.keep.join(", ")} (pids unchanged)`);
  if (plan.settings.length > 0) lines.push(`  settings changed: ${plan.settings.join(", ")}`);
  return lines.length > 0 ? lines.join("\n") : "  nothing changes";
}
