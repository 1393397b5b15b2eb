/**
 * Mode user: the agent runs as a user of its own (the daemon is root). Ids come from the system's user
 * database (`id`), a missing flotilla-<agent> user is created on request (`useradd`), the workspace is
 * handed to that user (0700), and `setpriv` drops to it after the limits wrapper has joined the cgroup.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Isolation } from "./policy.ts";

export interface UserIds {
  name: string;
  uid: number;
  gid: number;
}

/** The user an agent runs as in mode user: configured, else flotilla-<agent>. */
export function agentUserName(agent: string, isolation: Isolation): string {
  return isolation.user ?? `flotilla-${agent}`;
}

function idOf(flag: "-u" | "-g", user: string): number | undefined {
  const run = spawnSync("id", [flag, user], { encoding: "utf8", timeout: 5_000 });
  const id = Number(run.stdout.trim());
  return run.status === 0 && Number.isInteger(id) ? id : undefined;
}

function gidOfGroup(group: string): number | undefined {
  if (/^[0-9]+$/.test(group)) return Number(group);
  const run = spawnSync("getent", ["group", group], { encoding: "utf8", timeout: 5_000 });
  const gid = Number(run.stdout.split(":")[2]);
  return run.status === 0 && Number.isInteger(gid) ? gid : undefined;
}

/** The user's ids, or a line saying what is missing. */
export function lookupUser(agent: string, isolation: Isolation): UserIds | string {
  const name = agentUserName(agent, isolation);
  const uid = idOf("-u", name);
  if (uid === undefined) {
    return isolation.createUser
      ? `user ${name} does not exist yet`
      : `agent ${agent}: isolation user: no user "${name}" on this machine; create it (useradd --system ${name}) or set isolation.createUser: true`;
  }
  if (uid === 0) return `agent ${agent}: isolation user: "${name}" is root; choose an unprivileged user`;
  const gid = isolation.group === undefined ? idOf("-g", name) : gidOfGroup(isolation.group);
  if (gid === undefined)
    return `agent ${agent}: isolation user: no group "${isolation.group}"; create it or drop isolation.group`;
  return { name, uid, gid };
}

/** Creates the system user flotilla-<agent> (own group, no home, no login shell); throws with useradd's words. */
export function createAgentUser(name: string): void {
  const run = spawnSync(
    "useradd",
    [
      "--system",
      "--user-group",
      "--no-create-home",
      "--home-dir",
      "/nonexistent",
      "--shell",
      "/usr/sbin/nologin",
      name,
    ],
    { encoding: "utf8", timeout: 10_000 },
  );
  if (run.status !== 0)
    throw new Error(`cannot create user ${name}: ${(run.stderr || String(run.error)).trim().split("\n")[0]}`);
}

/** Hands the workspace to the agent's user, recursively, and closes it to everyone else (0700). */
export function claimWorkspace(workspace: string, ids: UserIds): void {
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.uid !== ids.uid || stat.gid !== ids.gid) chownSync(path, ids.uid, ids.gid);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(workspace);
  chmodSync(workspace, 0o700);
}

/** The setpriv prefix that runs argv as the user: its ids, no supplementary groups, no new privileges. */
export function dropTo(ids: UserIds, argv: string[]): string[] {
  return [
    "setpriv",
    `--reuid=${ids.uid}`,
    `--regid=${ids.gid}`,
    "--clear-groups",
    "--no-new-privs",
    "--inh-caps=-all",
    "--",
    ...argv,
  ];
}
