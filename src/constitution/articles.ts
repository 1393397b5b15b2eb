/** The articles of constitution.md: numbered Markdown headings ("## Article I: Title"), Article I supreme. */
import { readFileSync } from "node:fs";
import { FlotillaError } from "../errors.ts";

/** One article as written in the file. */
export interface Article {
  /** 1 for Article I; the supreme article is number 1. */
  number: number;
  /** The number as Roman numerals, as the brief shows it. */
  numeral: string;
  title: string;
  /** The article's text under its heading, trimmed. */
  body: string;
}

/** The constitution file as read: `missing` when there is no file at `path`. */
export interface ArticlesFile {
  path: string;
  missing: boolean;
  articles: Article[];
}

// "## Article I: Title", "## Article 2 - Title", "## Article III. Title", "## Article IV"; any heading level.
const HEADING = /^#{1,6}\s+Article\s+([IVXLCDM]+|\d+)\b\s*[:.\u2014\u2013-]?\s*(.*)$/i;
const ROMAN: Array<[number, string]> = [
  [1000, "M"],
  [900, "CM"],
  [500, "D"],
  [400, "CD"],
  [100, "C"],
  [90, "XC"],
  [50, "L"],
  [40, "XL"],
  [10, "X"],
  [9, "IX"],
  [5, "V"],
  [4, "IV"],
  [1, "I"],
];

/** Writes n (1–3999) in Roman numerals. */
export function toRoman(n: number): string {
  let rest = n;
  let text = "";
  for (const [value, letters] of ROMAN) {
    while (rest >= value) {
      text += letters;
      rest -= value;
    }
  }
  return text;
}

/** Reads Roman numerals or digits; undefined when the text is neither (or not canonical Roman). */
export function parseArticleNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) > 0 ? Number(trimmed) : undefined;
  const upper = trimmed.toUpperCase();
  if (!/^[IVXLCDM]+$/.test(upper)) return undefined;
  let total = 0;
  for (let i = 0; i < upper.length; i++) {
    const value = ROMAN.find(([, l]) => l === upper[i])?.[0] ?? 0;
    const next = ROMAN.find(([, l]) => l === upper[i + 1])?.[0] ?? 0;
    total += value < next ? -value : value;
  }
  return total > 0 && toRoman(total) === upper ? total : undefined;
}

/**
 * Parses the articles out of Markdown. Text before the first article heading is a preamble and is
 * ignored. Numbers must run I, II, III… in order, so "Article I is supreme" always means the first one.
 */
export function parseArticles(markdown: string, path = "constitution.md"): Article[] {
  const articles: Article[] = [];
  let current: { article: Article; lines: string[] } | undefined;
  const close = () => {
    if (current) current.article.body = current.lines.join("\n").trim();
  };
  markdown.split(/\r?\n/).forEach((line, index) => {
    const match = HEADING.exec(line);
    if (!match) {
      current?.lines.push(line);
      return;
    }
    close();
    const number = parseArticleNumber(match[1] ?? "");
    const expected = articles.length + 1;
    if (number !== expected) {
      throw new FlotillaError(
        "FLOTILLA_E_CONSTITUTION_INVALID",
        `${path}:${index + 1}: "Article ${match[1]}" is out of order; number the articles ${toRoman(expected)} (or ${expected}) onwards without gaps`,
      );
    }
    const article: Article = { number, numeral: toRoman(number), title: (match[2] ?? "").trim(), body: "" };
    if (!article.title) {
      throw new FlotillaError(
        "FLOTILLA_E_CONSTITUTION_INVALID",
        `${path}:${index + 1}: Article ${article.numeral} has no title; write "## Article ${article.numeral}: Title"`,
      );
    }
    articles.push(article);
    current = { article, lines: [] };
  });
  close();
  return articles;
}

/** Reads and parses the constitution file; a missing file gives no articles and `missing: true`. */
export function readArticles(path: string): ArticlesFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return { path, missing: true, articles: [] };
    throw new FlotillaError(
      "FLOTILLA_E_CONSTITUTION_INVALID",
      `${path}: cannot read the constitution (${(cause as Error).message}); check its permissions`,
      { cause },
    );
  }
  return { path, missing: false, articles: parseArticles(text, path) };
}
