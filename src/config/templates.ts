/** The configs `flotilla init` writes: a commented starter, and the demo fleet of the six seed roles on the example agent, thinking through the gateway. */
import { fileURLToPath } from "node:url";

const EXAMPLE_AGENT = fileURLToPath(new URL("../../examples/agents/example-agent.ts", import.meta.url));

/** The starter constitution \`flotilla init\` writes next to the config: six articles, Article I supreme. */
export const STARTER_CONSTITUTION = `# Constitution of the fleet

These articles bind every agent of this fleet. They outrank any prompt, task or instruction, and
Article I outranks the others. Flotilla copies them into each agent's FLOTILLA.md before every start.
Change them with "flotilla constitution amend"; amendments are recorded in the ledger and never lost.

## Article I: Quality comes before speed

Finish work correctly or report it unfinished. A fast answer that is wrong costs the fleet more than a
slow one that is right. Never trade correctness, safety or the operator's data for a deadline.

## Article II: Look it up before you state it

Check a fact before you claim it: read the code, run the command, open the page. Say where a claim
comes from, and say plainly when you are guessing.

## Article III: Failures are reported, never hidden

When something fails, say so at once, with the error and what you tried. Do not retry silently until
it passes, delete a failing test, or describe a partial result as complete.

## Article IV: Decide instead of asking

When a choice is yours to make, make it, write down why, and carry on. Ask only when the decision is
truly the operator's (money, security, deleting data) and give your recommendation with the question.

## Article V: Proof, or it did not happen

"Done" comes with evidence: the commands you ran and their output, the tests that pass, the link to
the change. Work without proof counts as not done.

## Article VI: Report your own violations at once

When you break an article, report it yourself before anyone else finds it: what happened, why, and
what you now do differently. The report puts you in strict mode until an operator clears it.
`;

const ROLES = ["coordinator", "coder", "reviewer", "deployer", "researcher", "qa"] as const;

/** The key the demo's simulator accepts; the demo writes it into DEMO_KEY_FILE beside its config. */
export const DEMO_SIM_KEY = "sim-demo-key";
export const DEMO_KEY_FILE = "sim.key";

/**
 * The demo fleet: six example agents on ports base+1 … base+6, all inside the demo folder, thinking through
 * the gateway (base) to the provider simulator (base+7): two providers on it, one per wire protocol, so a
 * chain can fail over from one to the other.
 */
export function demoConfig(basePort = 48390): string {
  const simPort = basePort + 7;
  const agents = ROLES.map(
    (role, i) => `  - name: ${role}
    role: ${role}
    kind: process
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(EXAMPLE_AGENT)}]
    port: ${basePort + i + 1}
    workspace: ./workspaces/${role}
    model: ${role === "coordinator" ? "strategic" : "worker"}
    restart: { delay: 2s, maxDelay: 30s, burst: 5/5m }
    health: { http: /health, grace: 20s, interval: 2s }
    stopTimeout: 5s
    limits: { files: 1024 }`,
  );
  return `# The Flotilla demo fleet: the six seed roles, each an example agent on its own port.
# Their thinking goes through Flotilla's gateway to a local provider simulator: nothing leaves this machine.
# Try: flotilla status; flotilla logs coder; kill -9 <a pid> and watch it come back;
#      curl -s 127.0.0.1:${basePort + 2}/v1/chat/completions -d '{"messages":[{"role":"user","content":"hi"}]}'
version: 1
stateDir: ./.flotilla
gateway:
  listen: 127.0.0.1:${basePort}
# A stand-in provider (OpenAI and Anthropic wire formats) that the daemon runs and supervises.
simulator:
  listen: 127.0.0.1:${simPort}
  keys:
    ${DEMO_SIM_KEY}: { rpm: 120, tpm: 200000 }
  latency: { firstTokenMs: 150, jitterMs: 250 }
providers:
  - id: sim-openai
    kind: openai
    baseUrl: http://127.0.0.1:${simPort}/v1
    keys: [{ file: ./${DEMO_KEY_FILE} }]   # a reference, as real keys are; the demo wrote the file
    limits: { rpm: 60, tpm: 100000 }
  - id: sim-anthropic
    kind: anthropic
    baseUrl: http://127.0.0.1:${simPort}
    keys: [{ file: ./${DEMO_KEY_FILE} }]
    limits: { rpm: 60, tpm: 100000 }
models:
  strategic: [{ provider: sim-anthropic, model: sim-large }, { provider: sim-openai, model: sim-large }]
  worker:
    - { provider: sim-openai, model: sim-large }
    - { provider: sim-anthropic, model: sim-small, tier: fallback }
agents:
${agents.join("\n")}
`;
}
