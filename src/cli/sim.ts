/** `flotilla sim`: the provider simulator in the foreground, for tests, drills and the demo. */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { FlotillaError } from "../errors.ts";
import { simOptionsSchema, type SimOptionsInput } from "../sim/options.ts";
import { createSimulator } from "../sim/simulator.ts";
import { type Command, print, printJson } from "./command.ts";
import { loadForCli } from "./load.ts";

function loadOptions(file: string | undefined): SimOptionsInput {
  if (!file) return {};
  let data: unknown;
  try {
    data = parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new FlotillaError(
      "FLOTILLA_E_CONFIG_INVALID",
      `${file}: cannot read it as YAML or JSON (${(cause as Error).message.split("\n")[0]})`,
    );
  }
  const result = simOptionsSchema.safeParse(data ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${file}: ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new FlotillaError("FLOTILLA_E_CONFIG_INVALID", problems.join("\n"));
  }
  return data as SimOptionsInput;
}

export const simCommand: Command = {
  name: "sim",
  summary: "Run the LLM provider simulator (OpenAI and Anthropic wire formats, limits, faults)",
  usage: "flotilla sim [--listen 127.0.0.1:48301] [--sim-config FILE | -c flotilla.yaml] [--json]",
  options: { listen: { type: "string" }, "sim-config": { type: "string" } },
  async run(input) {
    const file = typeof input.values["sim-config"] === "string" ? input.values["sim-config"] : undefined;
    // -c: the simulator: section of a fleet's config (how the daemon runs it); else --sim-config or defaults.
    let fromFleet: { listen: string; options: SimOptionsInput } | undefined;
    if (input.config !== undefined) {
      const loaded = loadForCli(input);
      if (!loaded.config.simulator) {
        throw new FlotillaError(
          "FLOTILLA_E_CONFIG_INVALID",
          `${loaded.file}: no simulator: section; add one, or run flotilla sim without -c`,
        );
      }
      const { listen, ...options } = loaded.config.simulator;
      fromFleet = { listen, options };
    }
    const options = fromFleet?.options ?? loadOptions(file);
    const sim = createSimulator(options);
    const listen =
      typeof input.values.listen === "string"
        ? input.values.listen
        : (fromFleet?.listen ?? "127.0.0.1:48301");
    let url: string;
    try {
      url = await sim.start(listen);
    } catch (cause) {
      throw new FlotillaError(
        "FLOTILLA_E_PREFLIGHT",
        `--listen ${listen}: cannot listen (${(cause as NodeJS.ErrnoException).code}); choose another address`,
      );
    }
    const keys = Object.keys(simOptionsSchema.parse(options).keys);
    if (input.json) print(JSON.stringify({ url, keys, pid: process.pid }));
    else
      print(
        `flotilla sim listening on ${url} (OpenAI: ${url}/v1, Anthropic: ${url}); keys: ${keys.join(", ")}`,
      );
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", resolve);
      process.once("SIGINT", resolve);
    });
    await sim.close();
    if (input.json) printJson({ stopped: true, stats: sim.stats() });
    return 0;
  },
};
