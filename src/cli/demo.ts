/** `flotilla demo` (what `npm start` runs): writes the demo fleet (six agents, gateway, simulator) into ./demo once and runs it (in the foreground unless --detach). */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadConfig } from "../config/load.ts";
import type { Command } from "./command.ts";
import { writeConstitution, writeDemo } from "./init.ts";
import { launchFleet } from "./up.ts";

export const demoCommand: Command = {
  name: "demo",
  summary: "Run the six-agent demo fleet from ./demo (written on first use)",
  usage: "flotilla demo [--dir DIR] [--detach] [--json]",
  options: { dir: { type: "string" }, detach: { type: "boolean", short: "d" } },
  async run(input) {
    const file = resolve(typeof input.values.dir === "string" ? input.values.dir : "demo", "flotilla.yaml");
    if (!existsSync(file)) writeConstitution(writeDemo(file, false), false);
    return launchFleet(loadConfig(file), { detach: input.values.detach === true, json: input.json });
  },
};
