/** The key ring: which agent a presented virtual key belongs to, and the per-connection shortcut. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createKeyRing, ensureGatewaySecret, virtualKey } from "../../src/gateway/virtual-keys.ts";

test("a key is identified by its hash; a connection that switches keys is checked again", (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), "flotilla-keys-"));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  ensureGatewaySecret(stateDir);
  const ring = createKeyRing(stateDir, ["coder", "reviewer"]);
  const coder = virtualKey(stateDir, "coder");
  const reviewer = virtualKey(stateDir, "reviewer");
  const connection = {};
  assert.equal(ring.identify(coder, connection), "coder");
  assert.equal(ring.identify(coder, connection), "coder");
  assert.equal(ring.identify(reviewer, connection), "reviewer");
  assert.equal(ring.identify(`${coder.slice(0, -1)}x`, connection), undefined);
  assert.equal(ring.identify(reviewer, {}), "reviewer");
  assert.equal(ring.identify(reviewer), "reviewer");
  assert.equal(ring.identify("sk-real-provider-key", connection), undefined);
  assert.equal(ring.identify(undefined, connection), undefined);
});
