/** The docs stay in step with the code: the config reference is regenerated, every error code is explained. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { renderConfigReference } from "../../src/config/reference.ts";
import { ERROR_CODES } from "../../src/errors.ts";
import { ROOT } from "../support/fleet.ts";

test("docs/config-reference.md matches the schema (run npm run docs:config)", () => {
  assert.equal(readFileSync(`${ROOT}docs/config-reference.md`, "utf8"), renderConfigReference());
});

test("docs/troubleshooting.md explains every error code", () => {
  const page = readFileSync(`${ROOT}docs/troubleshooting.md`, "utf8");
  const missing = Object.keys(ERROR_CODES).filter((code) => !page.includes(code));
  assert.deepEqual(missing, []);
});
