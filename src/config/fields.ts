/** Field shapes the config's parts share: secret references and durations, each with the message that says what to write. */
import { z } from "zod";
import { DURATION_PATTERN, parseDuration } from "./units.ts";

/** A secret is never written inline: it is a reference to an env var or a file. */
export const secretRef = z.union(
  [
    z.strictObject({
      env: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
        .describe("Name of an environment variable"),
    }),
    z.strictObject({ file: z.string().min(1).describe("Path of a file holding the secret") }),
  ],
  { error: "must be a reference, { env: NAME } or { file: path }, never the secret itself" },
);

export type SecretRef = z.infer<typeof secretRef>;

/** A duration such as "30s", parsed to milliseconds. */
export const duration = (example: string) =>
  z
    .string()
    .regex(DURATION_PATTERN, { message: `must be a duration such as "${example}" (units: ms, s, m, h, d)` })
    .transform((text) => parseDuration(text) ?? 0);
