#!/usr/bin/env node
// The flotilla bin: a plain-JS shim so the TypeScript entry runs with Node's type stripping.
// The compile cache keeps stripped output on disk, so later runs (and the daemon) skip the stripper.
import { enableCompileCache } from "node:module";

enableCompileCache();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
