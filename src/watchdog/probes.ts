/**
 * Probing one target and confirming a failure: the first probe uses probeTimeout; a failed one is probed again,
 * probeSpacing apart, and the last re-probe waits slowTimeout, which tells a slow target from a dead one.
 */
import type { FlotillaConfig } from "../config/schema.ts";
import { probeAgent, probeDaemon, probeGateway, type Verdict } from "./probe-processes.ts";
import { probeConfig, probeOversight, probeProvider } from "./probe-records.ts";
import type { ProbeResult, Target } from "./types.ts";

export interface ProbeContext {
  config: FlotillaConfig;
  /** The live config file (the config target validates it). */
  configFile: string;
  now: () => number;
}

async function verdictOf(target: Target, ctx: ProbeContext, timeoutMs: number): Promise<Verdict> {
  switch (target.kind) {
    case "daemon":
      return probeDaemon(ctx, timeoutMs);
    case "gateway":
      return probeGateway(ctx, timeoutMs);
    case "agent": {
      const agent = ctx.config.agents.find((a) => a.name === target.name);
      return agent
        ? probeAgent(agent, ctx, timeoutMs)
        : { state: "stopped", detail: "no longer in the config" };
    }
    case "oversight":
      return probeOversight(ctx);
    case "config":
      return probeConfig(ctx);
    case "provider":
      return probeProvider(target.name, ctx);
  }
}

/** Probes one target; never throws (an unexpected error is a down verdict that says so). */
export async function probeTarget(
  target: Target,
  ctx: ProbeContext,
  timeoutMs: number,
): Promise<ProbeResult> {
  let verdict: Verdict;
  try {
    verdict = await verdictOf(target, ctx, timeoutMs);
  } catch (err) {
    verdict = { state: "down", detail: `probe failed: ${(err as Error).message}` };
  }
  return { target, ...verdict, at: ctx.now() };
}

export interface ConfirmOptions {
  /** Consecutive failed probes (the first included) that confirm a target down: watchdog.failuresBeforeAction. */
  failures: number;
  spacingMs: number;
  slowTimeoutMs: number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A failed first probe: probe again until `failures` consecutive failures (spaced), the last re-probes with
 * slowTimeout; any healthy/starting/slow answer ends it. A healthy answer to the slowTimeout re-probe reads "slow".
 */
export async function confirmDown(
  target: Target,
  ctx: ProbeContext,
  first: ProbeResult,
  options: ConfirmOptions,
): Promise<{ down: boolean; seen: ProbeResult[] }> {
  const seen = [first];
  if (first.state !== "down") return { down: false, seen };
  const sleep = options.sleep ?? realSleep;
  for (let failed = 1; failed < options.failures; failed++) {
    await sleep(options.spacingMs);
    const last = failed === options.failures - 1;
    const timeout = last ? options.slowTimeoutMs : ctx.config.watchdog.probeTimeout;
    const result = await probeTarget(target, ctx, timeout);
    if (last && result.state === "healthy") {
      seen.push({ ...result, state: "slow", detail: `answered only within slowTimeout: ${result.detail}` });
      return { down: false, seen };
    }
    seen.push(result);
    if (result.state !== "down") return { down: false, seen };
  }
  return { down: true, seen };
}
