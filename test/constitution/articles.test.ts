/** The articles parser: numbered headings, Article I first and supreme, clear errors for gaps and missing titles. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseArticleNumber, parseArticles, readArticles, toRoman } from "../../src/constitution/articles.ts";
import { STARTER_CONSTITUTION } from "../../src/config/templates.ts";
import { FlotillaError } from "../../src/errors.ts";

test("Roman numerals and digits both number articles; non-canonical numerals are refused", () => {
  assert.deepEqual(["I", "iv", "IX", "XIV", "12", "XL"].map(parseArticleNumber), [1, 4, 9, 14, 12, 40]);
  assert.deepEqual(["IIII", "VX", "", "0", "A"].map(parseArticleNumber), [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
  assert.deepEqual([1, 4, 9, 14, 40, 1999].map(toRoman), ["I", "IV", "IX", "XIV", "XL", "MCMXCIX"]);
});

test("articles are read from numbered headings of any level, with their bodies; the preamble is ignored", () => {
  const articles = parseArticles(
    [
      "# Our constitution",
      "Preamble text that is not an article.",
      "## Article I: Quality over speed",
      "Do it right.",
      "",
      "Really.",
      "### Article 2 - Research first",
      "Look it up.",
      "## Article III. No hidden failures",
    ].join("\n"),
  );
  assert.deepEqual(articles, [
    { number: 1, numeral: "I", title: "Quality over speed", body: "Do it right.\n\nReally." },
    { number: 2, numeral: "II", title: "Research first", body: "Look it up." },
    { number: 3, numeral: "III", title: "No hidden failures", body: "" },
  ]);
});

test("a gap, a repeat or a missing title names the file and line", () => {
  const check = (text: string, pattern: RegExp) =>
    assert.throws(
      () => parseArticles(text, "c.md"),
      (err) =>
        err instanceof FlotillaError &&
        err.code === "FLOTILLA_E_CONSTITUTION_INVALID" &&
        pattern.test(err.message),
    );
  check(
    "## Article I: A\n## Article III: C",
    /^c\.md:2: "Article III" is out of order; number the articles II/,
  );
  check("## Article II: B", /^c\.md:1: "Article II" is out of order/);
  check("## Article I: A\n## Article I: A again", /^c\.md:2: "Article I" is out of order/);
  check("## Article I", /^c\.md:1: Article I has no title/);
});

test("a missing file is no error (missing: true); the starter constitution has the six seed articles", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-articles-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(readArticles(join(dir, "none.md")), {
    path: join(dir, "none.md"),
    missing: true,
    articles: [],
  });
  writeFileSync(join(dir, "c.md"), STARTER_CONSTITUTION);
  const file = readArticles(join(dir, "c.md"));
  assert.equal(file.missing, false);
  assert.deepEqual(
    file.articles.map((a) => a.title),
    [
      "Quality comes before speed",
      "Look it up before you state it",
      "Failures are reported, never hidden",
      "Decide instead of asking",
      "Proof, or it did not happen",
      "Report your own violations at once",
    ],
  );
  assert.ok(
    file.articles.every((a) => a.body.length > 80),
    "every article says something",
  );
});
