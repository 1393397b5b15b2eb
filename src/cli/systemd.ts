/** `flotilla systemd generate [--out DIR] [--system]` and `flotilla systemd install [--system]`: units for the production path. */
import { mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FlotillaError } from "../errors.ts";
import { operatorPath } from "../supervisor/agent-path.ts";
import { renderUnits } from "../systemd/units.ts";

const pathOption = (path: string | undefined) => (path ? { path } : {});
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";

const BIN = fileURLToPath(new URL("../../bin/flotilla.js", import.meta.url));
const USAGE =
  "flotilla systemd generate [--out DIR] [--system] | flotilla systemd install [--system] [-c FILE] [--json]";

function writeUnits(dir: string, units: Array<{ path: string; content: string }>): string[] {
  try {
    return units.map((unit) => {
      const file = join(dir, unit.path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, unit.content);
      return file;
    });
  } catch (cause) {
    throw new FlotillaError(
      "FLOTILLA_E_SYSTEMD",
      `${dir}: cannot write unit files (${(cause as NodeJS.ErrnoException).code}); pick another --out`,
      {
        cause,
      },
    );
  }
}

export const systemdCommand: Command = {
  name: "systemd",
  summary: "Write systemd units (generate [--out DIR]) or install them; --system for system units (as root)",
  usage: USAGE,
  options: { out: { type: "string" }, system: { type: "boolean" } },
  async run(input) {
    const [action] = input.positionals;
    if (action !== "generate" && action !== "install")
      throw new FlotillaError("FLOTILLA_E_USAGE", `say generate or install; usage: ${USAGE}`);
    const loaded = loadForCli(input);
    const scope = input.values.system === true ? "system" : "user";
    const units = renderUnits(
      loaded,
      { node: process.execPath, bin: BIN, ...pathOption(operatorPath(process.env.PATH)) },
      scope,
    );
    if (action === "generate") {
      const dir = resolve(
        typeof input.values.out === "string" ? input.values.out : join(dirname(loaded.file), "systemd"),
      );
      const files = writeUnits(dir, units);
      if (input.json) printJson({ files });
      else print(`wrote ${files.length} files to ${dir}:\n${files.map((f) => `  ${f}`).join("\n")}`);
      return 0;
    }
    const dir =
      scope === "system"
        ? "/etc/systemd/system"
        : join(process.env.XDG_CONFIG_HOME ?? join(homedir(), ".config"), "systemd", "user");
    const files = writeUnits(dir, units);
    const watchdogTimer = (flag: string) =>
      loaded.config.watchdog.enabled ? [`systemctl${flag} enable --now flotilla-watchdog.timer`] : [];
    const commands =
      scope === "system"
        ? ["systemctl daemon-reload", "systemctl enable --now flotilla.service", ...watchdogTimer("")]
        : [
            "systemctl --user daemon-reload",
            "systemctl --user enable --now flotilla.service",
            ...watchdogTimer(" --user"),
            `loginctl enable-linger ${process.env.USER ?? "$USER"}`,
          ];
    if (input.json) printJson({ files, commands });
    else
      print(
        `installed ${files.length} files in ${dir}; now run:\n${commands.map((c) => `  ${c}`).join("\n")}`,
      );
    return 0;
  },
};
