/** Prints docs/config-reference.md from the config's JSON Schema, so the reference never drifts from the code. */
import { renderConfigReference } from "../src/config/reference.ts";

process.stdout.write(renderConfigReference());
