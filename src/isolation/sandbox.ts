/**
 * The bubblewrap command line for one agent: the whole system read-only, its workspace, granted paths and a
 * private /tmp writable, its own PID namespace (no other process or /proc entry visible), and the state dir,
 * other agents' workspaces and secret files hidden. The network is shared, so the gateway stays reachable.
 */
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { type FleetView, hiddenWorkspaces, type Isolation } from "./policy.ts";

type Mount = { path: string; args: string[] };

/**
 * Flotilla's own install (its code and, installed with it, Node 24), shown read-only even where the
 * sandbox's private /tmp would cover it: agents run its Node and example agents, and it holds no secret.
 */
const INSTALL_ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

function depth(path: string): number {
  return path.split("/").filter(Boolean).length;
}

function exists(path: string): "dir" | "file" | undefined {
  try {
    return statSync(path).isDirectory() ? "dir" : "file";
  } catch {
    return undefined;
  }
}

/** Mounts that hide a path: an empty read-only tmpfs over a folder, /dev/null over a file. */
function hide(path: string): Mount[] {
  const kind = exists(path);
  if (kind === "dir") return [{ path, args: ["--tmpfs", path, "--remount-ro", path] }];
  if (kind === "file") return [{ path, args: ["--ro-bind", "/dev/null", path] }];
  return [];
}

/** The bwrap argv (without the program) that runs `argv` for an agent with this workspace and isolation. */
export function sandboxArgs(
  workspace: string,
  isolation: Isolation,
  view: FleetView,
  argv: string[],
): string[] {
  const mounts: Mount[] = [
    { path: "/dev", args: ["--dev", "/dev"] },
    { path: "/proc", args: ["--proc", "/proc"] },
    { path: "/tmp", args: ["--tmpfs", "/tmp"] },
    { path: INSTALL_ROOT, args: ["--ro-bind", INSTALL_ROOT, INSTALL_ROOT] },
    { path: workspace, args: ["--bind", workspace, workspace] },
    ...isolation.writable.map((p) => ({ path: p, args: ["--bind", p, p] })),
    ...isolation.readable.map((p) => ({ path: p, args: ["--ro-bind", p, p] })),
    ...hide(view.stateDir),
    ...hiddenWorkspaces(workspace, isolation, view).flatMap(hide),
    ...view.secretFiles.flatMap(hide),
  ];
  // No --die-with-parent: like any agent, a sandboxed one outlives a daemon crash until the next up cleans it up.
  return bwrapArgs(mounts, [], workspace, argv);
}

/**
 * The common bwrap command line: its own PID and IPC namespaces, capabilities dropped (as root) or a user
 * namespace, the whole system read-only, then the mounts, parents before children so a path inside a hidden
 * or bound folder is mounted on top of it.
 */
function bwrapArgs(mounts: Mount[], extra: string[], chdir: string, argv: string[]): string[] {
  const ordered = [...mounts].sort((a, b) => depth(a.path) - depth(b.path));
  return [
    "--unshare-pid",
    "--unshare-ipc",
    ...extra,
    ...(process.getuid?.() === 0 ? ["--cap-drop", "ALL"] : ["--unshare-user"]),
    "--ro-bind",
    "/",
    "/",
    ...ordered.flatMap((m) => m.args),
    "--chdir",
    chdir,
    "--",
    ...argv,
  ];
}

/**
 * The bwrap argv (without the program) for one of the watchdog's fix actions: like an agent's sandbox (the
 * system read-only, a private /tmp, its own PID namespace, the network shared so the daemon's loopback API
 * answers), but with the host's /proc readable (to see that the daemon lives), and with the state dir and the config file's folder writable, since Flotilla's commands change
 * them, and every path in `hide` (the agents' workspaces, the secret files) hidden. It dies with the watchdog.
 */
export function actionSandboxArgs(
  stateDir: string,
  configFile: string,
  hidePaths: string[],
  argv: string[],
): string[] {
  const configDir = dirname(configFile);
  const mounts: Mount[] = [
    { path: "/dev", args: ["--dev", "/dev"] },
    // The host's /proc, read-only: Flotilla's commands check daemon.json's pid there before calling the
    // daemon. The own PID namespace still keeps the action from signalling any process outside it.
    { path: "/proc", args: ["--ro-bind", "/proc", "/proc"] },
    { path: "/tmp", args: ["--tmpfs", "/tmp"] },
    { path: INSTALL_ROOT, args: ["--ro-bind", INSTALL_ROOT, INSTALL_ROOT] },
    { path: configDir, args: ["--bind", configDir, configDir] },
    { path: stateDir, args: ["--bind", stateDir, stateDir] },
    ...hidePaths.flatMap(hide),
  ];
  return bwrapArgs(mounts, ["--die-with-parent"], configDir, argv);
}
