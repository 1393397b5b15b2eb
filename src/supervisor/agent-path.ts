/**
 * The PATH an agent gets is the operator's, not the tool's: the `node_modules/.bin` folders that npm and npx
 * put in front (Flotilla's own, and npx's cache) are taken out, so `node` is the operator's Node everywhere.
 */
import { delimiter, dirname, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Where Flotilla is installed (its package folder). */
const FLOTILLA_ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

const within = (path: string, root: string) => path === root || path.startsWith(`${root}${sep}`);

/** True for a PATH entry that npm, npx or Flotilla itself added, not the operator. */
export function isToolEntry(entry: string, root = FLOTILLA_ROOT): boolean {
  // npx runs packages from its cache: ~/.npm/_npx/<hash>/node_modules/.bin
  if (entry.split(sep).includes("_npx")) return true;
  // `npm run` adds its node-gyp shim folder.
  if (entry.endsWith(`${sep}node-gyp-bin`) && entry.includes(`${sep}@npmcli${sep}run-script${sep}`))
    return true;
  if (!entry.endsWith(`${sep}node_modules${sep}.bin`)) return false;
  // `npm run` and npx add node_modules/.bin of Flotilla's folder and of every folder above it.
  const owner = dirname(dirname(entry));
  return within(root, owner) || within(owner, root);
}

/** The operator's PATH: the same entries in the same order, without the tool's, and no duplicates. */
export function operatorPath(path: string | undefined, root = FLOTILLA_ROOT): string | undefined {
  if (path === undefined) return undefined;
  const seen = new Set<string>();
  const kept = path.split(delimiter).filter((entry) => {
    if (!entry || seen.has(entry) || isToolEntry(entry, root)) return false;
    seen.add(entry);
    return true;
  });
  return kept.join(delimiter);
}
