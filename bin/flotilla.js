#!/usr/bin/env node
// The flotilla bin: a plain-JS shim so the TypeScript entry runs with Node's type stripping.
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
