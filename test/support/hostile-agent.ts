/**
 * A hostile agent for the trust-boundary test: it tries every read and forgery an agent running as the
 * daemon's user could, and writes what worked to <workspace>/probe.json. It waits for the test to write
 * <workspace>/targets.json (the paths and pids to attack), so it attacks what the test names.
 */
import { createHmac } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

interface Targets {
  stateDir: string;
  otherWorkspace: string;
  otherAgent: string;
  daemonPid: number;
  gatewayPid: number;
  /** A prefix of the real provider key: finding it anywhere is a leak. */
  realKeyPrefix: string;
}

const workspace = process.env.FLOTILLA_WORKSPACE ?? process.cwd();
const ownKey = process.env.FLOTILLA_AGENT_KEY ?? "";
const api = process.env.FLOTILLA_API_URL ?? "";
const gateway = process.env.FLOTILLA_GATEWAY_URL ?? "";
const self = process.env.FLOTILLA_AGENT_NAME ?? "";

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

const answers: string[] = [];

async function status(url: string, method: string, bearer: string, body?: string): Promise<number> {
  try {
    const res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body }),
    });
    answers.push(`${method} ${new URL(url).pathname} ${res.status} ${(await res.text()).slice(0, 200)}`);
    return res.status;
  } catch (err) {
    answers.push(`${method} ${url} failed: ${(err as Error).message}`);
    return 0;
  }
}

/** Every environ and cmdline this process can read under /proc, searched for the real key. */
function walkProc(prefix: string) {
  const pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  let leaks = 0;
  for (const pid of pids) {
    for (const file of ["environ", "cmdline"]) {
      const text = read(`/proc/${pid}/${file}`);
      if (text?.includes(prefix)) leaks++;
    }
  }
  return { visible: pids.length, leaks };
}

async function attack(t: Targets) {
  const proc = walkProc(t.realKeyPrefix);
  const daemonEnviron = read(`/proc/${t.daemonPid}/environ`);
  const gatewayEnviron = read(`/proc/${t.gatewayPid}/environ`);
  const token = read(join(t.stateDir, "token"))?.trim() ?? null;
  const secret = read(join(t.stateDir, "gateway.secret"))?.trim() ?? null;
  const registry = read(join(t.stateDir, "keys.json"));
  const otherNotes = read(join(t.otherWorkspace, "notes.txt"));
  // A forged key for the other agent: derived when the secret leaked, else guessed from our own key's shape.
  const version = registry
    ? ((JSON.parse(registry) as { agents: Record<string, { version: number }> }).agents[t.otherAgent]
        ?.version ?? 1)
    : 1;
  const forged = secret
    ? `flt-${t.otherAgent}-v${version}-${createHmac("sha256", secret).update(`agent:${t.otherAgent}:v${version}`).digest("base64url")}`
    : ownKey.replace(`flt-${self}-`, `flt-${t.otherAgent}-`);
  const forgedAtGateway = await status(`${gateway}/v1/chat/completions`, "POST", forged, "{}");
  const forgedViolation = await status(
    `${api}/v1/violations`,
    "POST",
    forged,
    JSON.stringify({
      what: "the probe agent filed this report under another agent's name with a forged key",
      why: "the probe tests whether the trust boundary stops a forged agent key at the daemon",
      change: "the daemon must refuse any key that it did not issue to the calling agent itself",
    }),
  );
  const routes: Array<[string, string, string?]> = [
    ["GET", "/v1/status"],
    ["GET", "/v1/events"],
    ["GET", "/v1/config"],
    ["POST", "/v1/config/apply", "{}"],
    ["GET", `/v1/agents/${t.otherAgent}/logs`],
    ["POST", `/v1/agents/${t.otherAgent}/stop`],
    ["POST", `/v1/agents/${t.otherAgent}/restart`],
    ["POST", `/v1/agents/${self}/clear-strict`],
    ["POST", `/v1/agents/${t.otherAgent}/key/rotate`],
    ["POST", "/v1/penalties", "{}"],
    ["POST", "/v1/constitution/amendments", "{}"],
    ["POST", "/v1/shutdown"],
  ];
  const ownKeyOnOperatorRoutes: Record<string, number> = {};
  for (const [method, path, body] of routes)
    ownKeyOnOperatorRoutes[`${method} ${path}`] = await status(`${api}${path}`, method, ownKey, body);
  // With a stolen token only read: a shutdown would end the test's fleet.
  const tokenOnStatus = token ? await status(`${api}/v1/status`, "GET", token) : null;
  return {
    visibleProcesses: proc.visible,
    keyLeaksInProc: proc.leaks,
    daemonEnvironRead: daemonEnviron !== null,
    gatewayEnvironRead: gatewayEnviron !== null,
    tokenRead: token !== null,
    secretRead: secret !== null,
    otherWorkspaceRead: otherNotes !== null,
    forgedAtGateway,
    forgedViolation,
    ownKeyOnOperatorRoutes,
    tokenOnStatus,
    answers,
  };
}

const targetsFile = join(workspace, "targets.json");
const timer = setInterval(() => {
  if (!existsSync(targetsFile) || existsSync(join(workspace, "probe.json"))) return;
  clearInterval(timer);
  const targets = JSON.parse(readFileSync(targetsFile, "utf8")) as Targets;
  void attack(targets).then((found) => {
    writeFileSync(join(workspace, "probe.json"), JSON.stringify(found, null, 2));
    setInterval(() => {}, 1e9);
  });
}, 50);
