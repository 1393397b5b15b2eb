/**
 * What HTTP/1.1 message heads say: the start line and header lines of an answer or a request, and how each
 * frames its body. Strict, since the bytes come from outside: token header names, no folded or split lines,
 * one framing; and nothing the peer sent is ever quoted in an error.
 */
import type { HeaderRecord } from "../header-record.ts";

/** The peer broke HTTP/1.1; the connection cannot be trusted or reused. */
export class ProtocolError extends Error {
  readonly code = "HTTP_PROTOCOL";
}

/** The head passed its size limit (a server answers 431). */
export class HeadTooLarge extends ProtocolError {}

export interface ResponseHead {
  status: number;
  /** Lower-cased names; a repeated header is an array in arrival order. */
  headers: HeaderRecord;
  /** The connection may carry another request once this answer is complete. */
  reusable: boolean;
  /** The server's `Keep-Alive: timeout=N`, in ms, when it sent one. */
  keepAliveMs: number | undefined;
}

export interface RequestHead {
  method: string;
  /** The request target as sent, e.g. `/v1/chat/completions?x=1`. */
  url: string;
  /** An HTTP/1.0 client, which knows no chunked answers. */
  http10: boolean;
  /** Lower-cased names; a repeated header's values are joined with ", " (as node:http does). */
  headers: Record<string, string>;
  /** The connection may carry another request once this one is answered. */
  reusable: boolean;
  /** The client sent `Expect: 100-continue` and waits for a 100 before its body. */
  expectsContinue: boolean;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([!-~]+) HTTP\/1\.([01])$/;
// Nothing the peer sent is quoted in errors: an upstream's bytes must not reach an error body or the ledger.
const RESPONSE_BAD_START = "malformed status line (not an HTTP/1.x answer)";
const REQUEST_BAD_START = "malformed request line (not an HTTP/1.x request)";

// The characters of a header name (RFC 9110's token), by char code.
const TOKEN_CHAR = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TOKEN_CHAR[char.charCodeAt(0)] = 1;

/** An HTTP token (a header name): what both the parser and the request writer accept. */
export function isToken(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (TOKEN_CHAR[text.charCodeAt(i)] !== 1) return false;
  return text.length > 0;
}

// Characters a header value may not carry onto the wire (CR and LF would split the head).
const UNSAFE_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** A header value that can go on the wire as given: what the request and response writers accept. */
export function isFieldValue(text: string): boolean {
  return !UNSAFE_VALUE.test(text);
}

// Header names as sent → their lower-case form. A provider sends the same few dozen names on every answer;
// a name met before skips the check and the lower-casing, and its string is already a property key.
const NAMES = new Map<string, string>();
const NAMES_KEPT = 512;

/** The lower-case name, or undefined when `raw` is not a token. */
function headerName(raw: string): string | undefined {
  const known = NAMES.get(raw);
  if (known !== undefined || !isToken(raw)) return known;
  const name = raw.toLowerCase();
  if (NAMES.size < NAMES_KEPT) NAMES.set(raw, name);
  return name;
}

function occursBefore(text: string, char: string, from: number, end: number): boolean {
  const at = text.indexOf(char, from);
  return at >= 0 && at < end;
}

/**
 * The header lines of a head (from `at`, the head without its final CRLF CRLF), read in place since this
 * runs on every message. `join` folds a repeated header into one ", "-joined value instead of an array.
 */
function readHeaders(text: string, at: number, join: boolean): HeaderRecord {
  const headers: HeaderRecord = {};
  let end: number;
  for (let line = 1; at < text.length; at = end + 2, line++) {
    end = text.indexOf("\r\n", at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(":", at);
    const name = colon > at && colon < end ? headerName(text.slice(at, colon)) : undefined;
    // A name of token characters, a colon, and no lone CR or LF before the line's CRLF.
    if (name === undefined || occursBefore(text, "\r", colon, end) || occursBefore(text, "\n", colon, end))
      throw new ProtocolError(`malformed header line ${line}`);
    const value = text.slice(colon + 1, end).trim();
    if (!Object.hasOwn(headers, name)) headers[name] = value;
    else {
      const seen = headers[name];
      if (join) headers[name] = `${seen as string}, ${value}`;
      else if (Array.isArray(seen)) seen.push(value);
      else headers[name] = [seen as string, value];
    }
  }
  return headers;
}

const lineEnd = (text: string) => {
  const end = text.indexOf("\r\n");
  return end < 0 ? text.length : end;
};

/** An answer's head; nothing the upstream sent is quoted in these errors (it must not reach the ledger). */
function parseResponseHead(text: string): ResponseHead {
  const end = lineEnd(text);
  const match = STATUS_LINE.exec(text.slice(0, end));
  if (!match) throw new ProtocolError(RESPONSE_BAD_START);
  const headers = readHeaders(text, end + 2, false);
  const { connection } = headers;
  const keepAlive = headers["keep-alive"];
  const timeout = keepAlive === undefined ? null : /timeout=(\d+)/.exec(String(keepAlive));
  return {
    status: Number(match[2]),
    headers,
    reusable: match[1] === "1" && (connection === undefined || !/close/i.test(String(connection))),
    keepAliveMs: timeout ? Number(timeout[1]) * 1000 : undefined,
  };
}

function parseRequestHead(text: string): RequestHead {
  const end = lineEnd(text);
  const match = REQUEST_LINE.exec(text.slice(0, end));
  if (!match) throw new ProtocolError(REQUEST_BAD_START);
  const headers = readHeaders(text, end + 2, true) as Record<string, string>;
  const { connection, expect } = headers;
  return {
    method: match[1] as string,
    url: match[2] as string,
    http10: match[3] === "0",
    headers,
    // HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 clients are answered and closed.
    reusable: match[3] === "1" && (connection === undefined || !/close/i.test(connection)),
    expectsContinue: expect !== undefined && expect.toLowerCase() === "100-continue",
  };
}

/** A first line, still unfinished, with a byte no HTTP/1.x start line has (TLS, say): fail now, not at 64 KB. */
export function impossibleStart(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte === 13 || byte === 10) return false;
    if ((byte < 0x20 && byte !== 9) || byte === 0x7f) return true;
  }
  return false;
}

/** How a message's body is framed: its length, chunked, up to the close, or none. */
export type Framing = number | "chunked" | "close";

/** The Content-Length value, one or more identical copies of a decimal number. */
function contentLength(length: string | string[]): number {
  const values = Array.isArray(length) ? length : length.split(",").map((v) => v.trim());
  const first = values[0] as string;
  if (!/^\d{1,15}$/.test(first) || values.some((value) => value !== first))
    throw new ProtocolError(
      values.length > 1 ? "conflicting content-length headers" : "invalid content-length",
    );
  return Number(first);
}

/** What differs between parsing answers and requests. */
export interface Grammar<H> {
  noun: "answer" | "request";
  /** The noun with its article, for "closed before …". */
  one: "an answer" | "a request";
  /** The error for a first line that cannot be HTTP/1.x. */
  badStart: string;
  /** The parsed head, or undefined for an interim answer (1xx) that the real one follows. */
  head(text: string): H | undefined;
  /** The body's framing; may mark the head not reusable. */
  framing(head: H): Framing;
}

export const RESPONSE: Grammar<ResponseHead> = {
  noun: "answer",
  one: "an answer",
  badStart: RESPONSE_BAD_START,
  head(text) {
    const head = parseResponseHead(text);
    if (head.status === 101) throw new ProtocolError("the upstream switched protocols");
    return head.status < 200 ? undefined : head; // 100 Continue, 103 Early Hints: the real answer follows
  },
  framing(head) {
    if (head.status === 204 || head.status === 304) return 0;
    const coding = head.headers["transfer-encoding"];
    if (coding !== undefined) {
      const codings = String(coding).toLowerCase().split(",");
      const chunked = codings[codings.length - 1]?.trim() === "chunked";
      // Both framings at once is how requests get smuggled: answer this one, never reuse the connection.
      if (!chunked || head.headers["content-length"] !== undefined) head.reusable = false;
      return chunked ? "chunked" : "close";
    }
    const length = head.headers["content-length"];
    if (length !== undefined) return contentLength(length);
    head.reusable = false;
    return "close";
  },
};

export const REQUEST: Grammar<RequestHead> = {
  noun: "request",
  one: "a request",
  badStart: REQUEST_BAD_START,
  head: parseRequestHead,
  framing(head) {
    const coding = head.headers["transfer-encoding"];
    if (coding !== undefined) {
      // A server cannot tell where a request with both framings, or another coding last, ends.
      if (head.headers["content-length"] !== undefined)
        throw new ProtocolError("both content-length and transfer-encoding");
      const codings = coding.toLowerCase().split(",");
      if (codings[codings.length - 1]?.trim() !== "chunked")
        throw new ProtocolError("a transfer-encoding other than chunked");
      return "chunked";
    }
    const length = head.headers["content-length"];
    return length === undefined ? 0 : contentLength(length);
  },
};
