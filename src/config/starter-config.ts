/**
 * The fleet `flotilla init` writes: it starts on this machine as is (two example agents thinking through the
 * gateway to the local provider simulator, like the demo), with OpenClaw, Claude Code and Codex agents
 * commented out and explained, to uncomment once their programs and secrets are there.
 */
import { fileURLToPath } from "node:url";
import { DEMO_KEY_FILE, DEMO_SIM_KEY } from "./templates.ts";

const EXAMPLE_AGENT = fileURLToPath(new URL("../../examples/agents/example-agent.ts", import.meta.url));

/** The starter's ports: the gateway on base, the agents on base+1 and base+2, the simulator on base+9. */
export const STARTER_BASE_PORT = 48410;

export function starterConfig(base = STARTER_BASE_PORT): string {
  const example = `[${JSON.stringify(process.execPath)}, ${JSON.stringify(EXAMPLE_AGENT)}]`;
  return `# flotilla.yaml: one file for the whole fleet. "flotilla validate" checks it; "flotilla schema" prints its JSON Schema.
# As written it starts here and now: two example agents that think through Flotilla's gateway to a local
# provider simulator (nothing leaves this machine). Replace them with your own agents below.
version: 1

# Ledger, logs, run files and the control API token live here (created with mode 0700).
stateDir: ./.flotilla

# The control API binds loopback; port 0 picks a free port (the CLI finds it in stateDir).
api:
  listen: 127.0.0.1:0

logs:
  maxSize: 10M      # rotate each agent's log at this size
  keep: 3           # rotated files to keep

# The constitution: numbered articles every agent reads in its FLOTILLA.md before each start.
constitution:
  articles: ./constitution.md   # "flotilla init" wrote a starter next to this file
  required: false               # true: no work is dispatched while the constitution is missing or empty
  penaltyCap: 20                # most recent penalties shown in an agent's brief
  policies:                     # rules added before the prompt of dispatched work
    - id: proof
      text: "Finish with the commands you ran and their output."
      scope: [task, parallel]   # task, steer, parallel

# Agents reach models through the gateway with a virtual key of their own; real keys stay here.
gateway:
  listen: 127.0.0.1:${base}

# A stand-in provider that the daemon runs. For a real one, add it under providers with its key as a
# reference (for example keys: [{ env: OPENAI_API_KEY }]) and point the models at it.
simulator:
  listen: 127.0.0.1:${base + 9}
  keys:
    ${DEMO_SIM_KEY}: { rpm: 120, tpm: 200000 }
providers:
  - id: sim
    kind: openai
    baseUrl: http://127.0.0.1:${base + 9}/v1
    keys: [{ file: ./${DEMO_KEY_FILE} }]   # a reference, as real keys are; "flotilla init" wrote the file
models:
  main: [{ provider: sim, model: sim-large }]

agents:
  - name: coordinator
    role: coordinator      # the coordinator gets priority at the gateway
    kind: process          # openclaw | codex (brief pointer in AGENTS.md), claude-code (CLAUDE.md), process
    command: ${example}   # or a string run with /bin/sh
    port: ${base + 1}
    workspace: ./workspaces/coordinator
    model: main
    restart:
      policy: on-failure   # on-failure | always | never
      delay: 30s           # first restart after 30 s, then doubling ...
      maxDelay: 5m         # ... up to 5 minutes
      burst: 5/10m         # a sixth start within 10 minutes marks the agent failed
    health:
      http: /health        # or tcp: true, or process: true
      grace: 20s
    stopTimeout: 10s       # SIGTERM, then SIGKILL after this long
    limits:
      memory: 512M
      files: 1024

  - name: coder
    role: coder
    kind: process
    command: ${example}
    port: ${base + 2}
    workspace: ./workspaces/coder
    model: main
    health: { http: /health, grace: 20s }

  # An OpenClaw gateway as an agent. Needs the openclaw program on PATH (npm install -g openclaw) and
  # COORDINATOR_GATEWAY_TOKEN exported before "flotilla up"; "flotilla validate" and "up" name what is missing.
  # - name: claw
  #   kind: openclaw
  #   command: "openclaw --profile main gateway run --port ${base + 3}"
  #   port: ${base + 3}
  #   workspace: ./workspaces/claw
  #   model: main
  #   env:
  #     OPENCLAW_GATEWAY_TOKEN: { env: COORDINATOR_GATEWAY_TOKEN }   # secrets are references, never inline
  #   health: { http: /health, grace: 90s }   # OpenClaw takes 15-25 s (more under load) to become healthy
  #   stopTimeout: 20s

  # Claude Code as a long-running agent (its brief pointer goes into CLAUDE.md). Needs the claude program.
  # - name: reviewer
  #   kind: claude-code
  #   command: "claude"      # the command line you run Claude Code with
  #   workspace: ./workspaces/reviewer
  #   model: main
  #   health: { process: true }

  # Codex (its brief pointer goes into AGENTS.md). Needs the codex program.
  # - name: builder
  #   kind: codex
  #   command: "codex"       # the command line you run Codex with
  #   workspace: ./workspaces/builder
  #   model: main
  #   health: { process: true }
`;
}
