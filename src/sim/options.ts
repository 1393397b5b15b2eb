/** The simulator's options: keys and their limits, latency, scripted answers and faults, validated from YAML or JSON. */
import { z } from "zod";

const limits = z.strictObject({
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
  rph: z.number().int().positive().optional(),
  tph: z.number().int().positive().optional(),
  concurrency: z.number().int().positive().optional(),
});

export const faultsSchema = z.strictObject({
  errorRate: z.number().min(0).max(1).prefault(0).describe("Share of requests answered 500/503"),
  outages: z
    .array(z.strictObject({ fromMs: z.number().nonnegative(), toMs: z.number().nonnegative() }))
    .prefault([])
    .describe("Windows (ms after start) during which every request gets 503"),
  hangRate: z.number().min(0).max(1).prefault(0).describe("Share of requests accepted and never answered"),
  dropRate: z
    .number()
    .min(0)
    .max(1)
    .prefault(0)
    .describe("Share of responses whose socket is destroyed mid-way"),
  status: z.number().int().min(400).max(599).optional().describe("Answer every request with this status"),
});

export const simOptionsSchema = z.strictObject({
  keys: z
    .record(z.string(), limits)
    .prefault({ "sim-key": {} })
    .describe("Accepted API keys and their limits"),
  acceptAnyKey: z.boolean().prefault(false),
  models: z.array(z.string()).prefault(["sim-large", "sim-small"]),
  latency: z
    .strictObject({
      firstTokenMs: z.number().nonnegative().prefault(0),
      jitterMs: z.number().nonnegative().prefault(0),
    })
    .prefault({}),
  chunkDelayMs: z.number().nonnegative().prefault(0),
  words: z.number().int().positive().prefault(12).describe("Words in a generated answer"),
  seed: z.number().int().prefault(1),
  script: z
    .array(
      z.strictObject({
        match: z.string().optional(),
        reply: z.string().optional(),
        toolCall: z
          .strictObject({ name: z.string(), arguments: z.record(z.string(), z.unknown()) })
          .optional(),
      }),
    )
    .prefault([]),
  faults: faultsSchema.prefault({}),
});

export type SimOptions = z.output<typeof simOptionsSchema>;
export type SimOptionsInput = z.input<typeof simOptionsSchema>;
export type Faults = SimOptions["faults"];
export type KeyLimits = z.output<typeof limits>;
