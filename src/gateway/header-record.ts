/** An upstream answer's headers as undici hands them over (lower-cased names), and reading one value. */

/** Shaped like node:http's `IncomingMessage.headers`: built once per answer, read by the router and the limiter. */
export type HeaderRecord = Record<string, string | string[] | undefined>;

/** The first value of a header, by its lower-case name. */
export function headerValue(headers: HeaderRecord, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
