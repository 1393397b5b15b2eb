/** A small line-based unified diff (longest common subsequence), for drift events and `config diff`. */

const MAX_CELLS = 4_000_000;

type Op = { kind: " " | "-" | "+"; line: string };

function lineOps(a: string[], b: string[]): Op[] {
  if (a.length * b.length > MAX_CELLS) {
    return [
      ...a.map((line) => ({ kind: "-" as const, line })),
      ...b.map((line) => ({ kind: "+" as const, line })),
    ];
  }
  // lengths[i][j]: LCS length of a[i..] and b[j..]
  const lengths = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    const row = lengths[i] as Uint32Array;
    const next = lengths[i + 1] as Uint32Array;
    for (let j = b.length - 1; j >= 0; j--)
      row[j] = a[i] === b[j] ? (next[j + 1] ?? 0) + 1 : Math.max(next[j] ?? 0, row[j + 1] ?? 0);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i] ?? "" });
      i++;
      j++;
    } else if ((lengths[i + 1]?.[j] ?? 0) >= (lengths[i]?.[j + 1] ?? 0))
      ops.push({ kind: "-", line: a[i++] ?? "" });
    else ops.push({ kind: "+", line: b[j++] ?? "" });
  }
  while (i < a.length) ops.push({ kind: "-", line: a[i++] ?? "" });
  while (j < b.length) ops.push({ kind: "+", line: b[j++] ?? "" });
  return ops;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** A unified diff of two texts with `context` lines around each change; "" when they are equal. */
export function unifiedDiff(
  before: string,
  after: string,
  names: { from: string; to: string },
  context = 3,
): string {
  if (before === after) return "";
  const ops = lineOps(splitLines(before), splitLines(after));
  const out = [`--- ${names.from}`, `+++ ${names.to}`];
  let index = 0;
  while (index < ops.length) {
    while (index < ops.length && ops[index]?.kind === " ") index++;
    if (index >= ops.length) break;
    const start = Math.max(0, index - context);
    let end = index;
    // extend the hunk while changes are closer than 2 * context lines apart
    for (let k = index; k < ops.length; k++) {
      if (ops[k]?.kind !== " ") end = k;
      else if (k - end > 2 * context) break;
    }
    end = Math.min(ops.length - 1, end + context);
    let oldLine = 1;
    let newLine = 1;
    for (let k = 0; k < start; k++) {
      if (ops[k]?.kind !== "+") oldLine++;
      if (ops[k]?.kind !== "-") newLine++;
    }
    const hunk = ops.slice(start, end + 1);
    const oldCount = hunk.filter((op) => op.kind !== "+").length;
    const newCount = hunk.filter((op) => op.kind !== "-").length;
    out.push(
      `@@ -${oldCount === 0 ? oldLine - 1 : oldLine},${oldCount} +${newCount === 0 ? newLine - 1 : newLine},${newCount} @@`,
    );
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
    index = end + 1;
  }
  return `${out.join("\n")}\n`;
}
