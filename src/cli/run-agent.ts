/** `flotilla run-agent <name>`: one agent in the foreground with its env and workspace, for the per-agent systemd template. */
import { spawn } from "node:child_process";
import { FlotillaError } from "../errors.ts";
import { buildAgentEnv } from "../supervisor/agent-env.ts";
import { planLaunch } from "../supervisor/limits.ts";
import { checkAgent, failPreflight } from "../supervisor/preflight.ts";
import { instanceId } from "../supervisor/supervisor.ts";
import type { Command } from "./command.ts";
import { agentNames, loadForCli } from "./load.ts";

const USAGE = "flotilla run-agent <name> [-c FILE]";

export const runAgentCommand: Command = {
  name: "run-agent",
  summary: "Run one agent in the foreground (what the flotilla-agent@ systemd template starts)",
  usage: USAGE,
  async run(input) {
    const [name] = agentNames(input, USAGE);
    const { config } = loadForCli(input);
    const agent = config.agents.find((a) => a.name === name);
    if (!agent) {
      throw new FlotillaError(
        "FLOTILLA_E_UNKNOWN_AGENT",
        `no agent named "${name}" (agents: ${config.agents.map((a) => a.name).join(", ")})`,
      );
    }
    const env = buildAgentEnv(agent, instanceId(config.stateDir), config.inheritEnv);
    failPreflight(await checkAgent(agent, env));
    // Under systemd the unit's MemoryMax=/CPUQuota=/LimitNOFILE= apply; plan only the rlimit wrapper here.
    const launch = planLaunch(
      { ...agent, limits: { ...(agent.limits.files === undefined ? {} : { files: agent.limits.files }) } },
      "run-agent",
    );
    const child = spawn(launch.file, launch.args, { cwd: agent.workspace, env, stdio: "inherit" });
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
      process.on(signal, () => child.kill(signal));
    return new Promise((resolve) => {
      child.once("error", (err) => {
        process.stderr.write(`flotilla run-agent: ${name}: cannot start: ${err.message}\n`);
        resolve(1);
      });
      child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
    });
  },
};
