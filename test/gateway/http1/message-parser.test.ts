/**
 * The message parsers: an upstream's answer in every framing, split at every byte, and each way an answer can
 * be broken; then an agent's request, with the rules that differ for requests.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ProtocolError,
  type RequestHead,
  type ResponseHead,
} from "../../../src/gateway/http1/message-heads.ts";
import { RequestParser, ResponseParser } from "../../../src/gateway/http1/message-parser.ts";

interface Parsed {
  heads: ResponseHead[];
  body: string;
  ends: number;
  extra: number;
  parser: ResponseParser;
}

/** Feeds `wire` in pieces cut at `cuts`; `eof` says whether the connection then closes. */
function parse(wire: string, cuts: number[] = [], eof = false): Parsed {
  const out: Parsed = {
    heads: [],
    body: "",
    ends: 0,
    extra: 0,
    parser: undefined as unknown as ResponseParser,
  };
  const parser = new ResponseParser({
    onHead: (head) => out.heads.push(head),
    onData: (chunk) => (out.body += chunk.toString("latin1")),
    onEnd: () => out.ends++,
  });
  out.parser = parser;
  const bytes = Buffer.from(wire, "latin1");
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.extra += parser.push(bytes.subarray(from, cut));
    from = cut;
  }
  if (eof) parser.eof();
  return out;
}

/** The same answer, cut in two at every byte and in three at a spread of places, parses the same. */
function everySplit(wire: string, eof = false): Parsed {
  const whole = parse(wire, [], eof);
  for (let i = 1; i < wire.length; i++) {
    for (const cuts of [[i], [i, Math.min(i + 7, wire.length)]]) {
      const split = parse(wire, cuts, eof);
      assert.equal(split.body, whole.body, `body differs when cut at ${cuts.join(",")}`);
      assert.deepEqual(split.heads, whole.heads, `head differs when cut at ${cuts.join(",")}`);
      assert.equal(split.ends, whole.ends, `end differs when cut at ${cuts.join(",")}`);
    }
  }
  return whole;
}

test("a Content-Length answer, cut anywhere, gives its head, its exact body and one end", () => {
  const wire =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 11\r\n" +
    "X-Ratelimit-Remaining-Requests: 59\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n\r\n" +
    '{"ok":true}';
  const parsed = everySplit(wire);
  assert.equal(parsed.body, '{"ok":true}');
  assert.equal(parsed.ends, 1);
  const [head] = parsed.heads;
  assert.equal(head?.status, 200);
  assert.equal(head?.headers["x-ratelimit-remaining-requests"], "59");
  assert.deepEqual(head?.headers["set-cookie"], ["a=1", "b=2"]);
  assert.equal(head?.reusable, true);
  assert.equal(parsed.parser.done, true);
  const odd = parse(
    "HTTP/1.1 200 OK\r\nconstructor: c\r\n__proto__: p\r\n__proto__: q\r\ncontent-length: 0\r\n\r\n",
  );
  assert.equal(
    odd.heads[0]?.headers.constructor,
    "c",
    "a header named like an Object property is a plain value",
  );
  assert.equal(
    Object.getPrototypeOf(odd.heads[0]?.headers),
    Object.prototype,
    "__proto__ headers change nothing",
  );
});

test("a chunked answer with extensions and trailers, cut anywhere, gives the joined chunks", () => {
  const wire =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
    'f\r\ndata: {"a":1}\n\n\r\n' +
    "b;name=value\r\ndata: [DO\r\n\r\n" +
    "3\r\nNE]\r\n" +
    "0\r\nx-trailer: yes\r\n\r\n";
  const parsed = everySplit(wire);
  assert.equal(parsed.body, 'data: {"a":1}\n\ndata: [DO\r\nNE]');
  assert.equal(parsed.ends, 1);
  assert.equal(parsed.heads[0]?.reusable, true);
});

test("an answer with no length runs to the close and leaves the connection unusable", () => {
  const wire = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end";
  const parsed = everySplit(wire, true);
  assert.equal(parsed.body, "until the end");
  assert.equal(parsed.ends, 1);
  assert.equal(parsed.parser.reusable, false);
  const open = parse(wire);
  assert.equal(open.ends, 0, "no end until the connection closes");
});

test("interim 1xx answers are skipped; 204 and a zero length end at once", () => {
  const interim = parse(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n" +
      "HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok",
  );
  assert.deepEqual(
    interim.heads.map((head) => head.status),
    [201],
  );
  assert.equal(interim.body, "ok");
  for (const wire of ["HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"]) {
    const parsed = parse(wire);
    assert.equal(parsed.heads.length, 1);
    assert.equal(parsed.ends, 1);
    assert.equal(parsed.parser.done, true);
  }
});

test("reuse follows the server: close, HTTP/1.0 and two framings at once forbid it; Keep-Alive sets the idle time", () => {
  const reusable = (wire: string) => parse(wire).heads[0]?.reusable;
  assert.equal(reusable("HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 0\r\n\r\n"), false);
  assert.equal(reusable("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n"), false);
  const smuggled = parse(
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n1\r\nx\r\n0\r\n\r\n",
  );
  assert.equal(smuggled.body, "x");
  assert.equal(smuggled.parser.reusable, false);
  const hinted = parse("HTTP/1.1 200 OK\r\nkeep-alive: timeout=5, max=100\r\ncontent-length: 0\r\n\r\n");
  assert.equal(hinted.heads[0]?.keepAliveMs, 5000);
  assert.equal(hinted.parser.reusable, true);
});

test("bytes past the end of the answer are counted, not taken as body", () => {
  const parsed = parse("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n");
  assert.equal(parsed.body, "ok");
  assert.equal(parsed.extra, "HTTP/1.1 200 OK\r\n".length);
});

test("a broken answer is a ProtocolError that says what broke", () => {
  const cases: [string, RegExp, boolean?][] = [
    ["SMTP ready\r\n\r\n", /^malformed status line \(not an HTTP\/1.x answer\)$/],
    ["HTTP/1.1 2000 OK\r\n\r\n", /malformed status line/],
    ["HTTP/1.1 200 OK\r\nbad header\r\n\r\n", /malformed header line 1/],
    ["HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\n\r\n", /malformed header line 2/],
    [
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n",
      /conflicting content-length headers/,
    ],
    ["HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", /invalid content-length/],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", /^invalid chunk size$/],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nxy\r\n", /longer than its size/],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\nx", /does not end in CRLF/],
    ["HTTP/1.1 101 Switching Protocols\r\n\r\n", /switched protocols/],
    [`HTTP/1.1 200 OK\r\nx-big: ${"a".repeat(70_000)}`, /headers exceed 65536 bytes/],
    ["", /closed before an answer/, true],
    ["HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort", /closed in the middle of the answer/, true],
    ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab", /closed in the middle/, true],
  ];
  for (const [wire, message, eof] of cases) {
    assert.throws(
      () => parse(wire, [], eof),
      (err: unknown) => err instanceof ProtocolError && message.test(err.message),
      `${JSON.stringify(wire.slice(0, 50))} should fail with ${message}`,
    );
  }
});

/** Feeds a request in two pieces cut at every byte; all cuts must give the same head, body and end. */
function parseRequest(wire: string): {
  head: RequestHead | undefined;
  body: string;
  ends: number;
  extra: number;
} {
  let whole: ReturnType<typeof parseRequest> | undefined;
  for (let cut = 0; cut <= wire.length; cut++) {
    const out = { head: undefined as RequestHead | undefined, body: "", ends: 0, extra: 0 };
    const parser = new RequestParser({
      onHead: (head) => (out.head = head),
      onData: (chunk) => (out.body += chunk.toString("latin1")),
      onEnd: () => out.ends++,
    });
    const bytes = Buffer.from(wire, "latin1");
    out.extra =
      parser.push(bytes.subarray(0, cut)) + (cut < bytes.length ? parser.push(bytes.subarray(cut)) : 0);
    if (whole) assert.deepEqual(out, whole, `request differs when cut at ${cut}`);
    whole = out;
  }
  return whole as ReturnType<typeof parseRequest>;
}

test("a request: its line and headers, repeats joined, a body by length or chunks, none without either", () => {
  const sized = parseRequest(
    "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer a\r\n" +
      "authorization: Bearer b\r\nContent-Length: 4\r\nExpect: 100-Continue\r\n\r\nbodyGET /next",
  );
  assert.deepEqual(sized.head, {
    method: "POST",
    url: "/v1/chat/completions?x=1",
    http10: false,
    headers: {
      host: "gw",
      authorization: "Bearer a, Bearer b",
      "content-length": "4",
      expect: "100-Continue",
    },
    reusable: true,
    expectsContinue: true,
  });
  assert.equal(sized.body, "body");
  assert.equal(sized.ends, 1);
  assert.equal(sized.extra, "GET /next".length, "the next request's bytes are left for it");

  const chunked = parseRequest(
    "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n1;x\r\nc\r\n0\r\n\r\n",
  );
  assert.equal(chunked.body, "abc");
  assert.equal(chunked.ends, 1);

  const bodiless = parseRequest("GET /v1/models HTTP/1.0\r\n\r\n");
  assert.equal(bodiless.body, "");
  assert.equal(bodiless.ends, 1);
  assert.equal(bodiless.head?.http10, true);
  assert.equal(bodiless.head?.reusable, false, "HTTP/1.0 is answered and closed");
  assert.equal(parseRequest("GET / HTTP/1.1\r\nconnection: Close\r\n\r\n").head?.reusable, false);
});

test("a broken request is a ProtocolError: both framings, another coding, a bad line", () => {
  const cases: [string, RegExp][] = [
    ["GET /\r\n\r\n", /^malformed request line \(not an HTTP\/1.x request\)$/],
    ["GET / HTTP/2.0\r\n\r\n", /malformed request line/],
    ["\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /malformed request line/], // a TLS hello, still unfinished
    ["GET /a b HTTP/1.1\r\n\r\n", /malformed request line/],
    ["POST / HTTP/1.1\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n", /both content-length/],
    ["POST / HTTP/1.1\r\ntransfer-encoding: chunked, gzip\r\n\r\n", /other than chunked/],
    ["POST / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n", /conflicting content-length/],
    ["POST / HTTP/1.1\r\ncontent-length: 1x\r\n\r\n", /invalid content-length/],
  ];
  for (const [wire, message] of cases) {
    const parser = new RequestParser({ onHead() {}, onData() {}, onEnd() {} });
    assert.throws(
      () => parser.push(Buffer.from(wire, "latin1")),
      (err: unknown) => err instanceof ProtocolError && message.test(err.message),
      `${JSON.stringify(wire)} should fail with ${message}`,
    );
  }
  const cut = new RequestParser({ onHead() {}, onData() {}, onEnd() {} });
  cut.push(Buffer.from("POST / HTTP/1.1\r\ncontent-length: 9\r\n\r\nab"));
  assert.throws(() => cut.eof(), /closed in the middle of the request/);
});
