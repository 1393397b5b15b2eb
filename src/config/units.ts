/** Parsers for the human units config uses: durations (`500ms`, `30s`, `15m`) and sizes (`512M`, `2G`). */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
export const SIZE_PATTERN = /^(\d+(?:\.\d+)?)([KMGT]?)(?:i?B)?$/i;

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  return Math.round(Number(match[1]) * (DURATION_UNITS[match[2]] ?? 0));
}

/** Bytes for a size string such as `512M` or `2GiB`, or undefined when it is not one. */
export function parseSize(text: string): number | undefined {
  const match = SIZE_PATTERN.exec(text.trim());
  if (!match?.[1]) return undefined;
  const unit = SIZE_UNITS[(match[2] ?? "").toUpperCase()];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}

/** `5/10m` → 5 starts within 600000 ms. */
export function parseBurst(text: string): { count: number; windowMs: number } | undefined {
  const [count, window] = text.split("/");
  if (!count || !window || !/^\d+$/.test(count)) return undefined;
  const windowMs = parseDuration(window);
  return windowMs === undefined || Number(count) < 1 ? undefined : { count: Number(count), windowMs };
}

/** Short human form of a duration, for tables: `42s`, `3m12s`, `2h5m`. */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ""}`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}
