#!/usr/bin/env node
// The flotilla bin: a plain-JS shim so the TypeScript entry runs with Node's type stripping. It checks the
// Node version first (nothing below runs on an older Node), and on an older Node hands over to the bundled
// Node 24 when `npm ci` installed one. The compile cache keeps stripped output on disk for later runs.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const NEEDED = 24;
const major = Number(process.versions.node.split(".")[0]);

if (major < NEEDED) {
  const bundled = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url));
  if (!existsSync(bundled)) {
    process.stderr.write(
      `flotilla: needs Node ${NEEDED} or newer, but ${process.execPath} is Node ${process.versions.node}; ` +
        `run "npm ci" in ${fileURLToPath(new URL("..", import.meta.url))} (it brings Node ${NEEDED}) or install Node ${NEEDED} from https://nodejs.org\n`,
    );
    process.exit(1);
  }
  // The bundled Node runs this same file; signals reach it, and its exit is ours.
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else {
  const { enableCompileCache } = await import("node:module");
  enableCompileCache();
  const { main } = await import("../src/cli/main.ts");
  process.exitCode = await main(process.argv.slice(2));
}
