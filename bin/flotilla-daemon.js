#!/usr/bin/env node
// The daemon process entry, started by `flotilla up`. Plain JS so that, with the compile cache the CLI
// warmed, the daemon runs without loading the TypeScript stripper at all.
const { runDaemonProcess } = await import("../src/daemon-main.ts");
await runDaemonProcess();
