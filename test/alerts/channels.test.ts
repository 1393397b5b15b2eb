/**
 * Every alert channel against a real receiver on 127.0.0.1 in its service's format (the wire shape each
 * service documents), through the notifier the daemon uses: one shared suite, one case per channel.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createNotifier } from "../../src/oversight/notifier.ts";
import { waitFor } from "../support/fleet.ts";
import { configOf, finding, notifierState } from "../support/notifier.ts";
import { type Received, type Script, startReceiver } from "../support/receiver.ts";

/** The secret part of every URL and token here: it must never show in a record. */
const SECRET = "T0KEN-s3cr3t-9f8e7d";

interface HttpCase {
  kind: string;
  /** The channel's YAML fields besides id and kind, given the receiver's URL. */
  fields: (url: string) => string;
  secrets: (url: string) => Record<string, string>;
  answer: Script;
  path: string;
  check: (request: Received, sent: ReturnType<typeof finding>) => void;
}

const CASES: HttpCase[] = [
  {
    kind: "webhook",
    fields: () => "url: { env: HOOK_URL }",
    secrets: (url) => ({ HOOK_URL: `${url}/hooks/${SECRET}` }),
    answer: () => ({ status: 200, body: "ok" }),
    path: `/hooks/${SECRET}`,
    check: (request, sent) => {
      const body = request.json as Record<string, unknown>;
      assert.equal(body.type, "flotilla.finding");
      assert.equal(body.version, 1);
      assert.equal(body.run, 7);
      assert.equal(body.repeats, 0);
      assert.equal(body.escalatedAfter, null);
      assert.equal(body.title, "[critical] push-without-ci (coder)");
      const visible: Record<string, unknown> = { ...sent };
      delete visible.key;
      delete visible.runId;
      assert.deepEqual(body.finding, visible);
    },
  },
  {
    kind: "slack",
    fields: () => "url: { env: SLACK_URL }",
    secrets: (url) => ({ SLACK_URL: `${url}/services/T000/B000/${SECRET}` }),
    // Slack's incoming webhooks answer 200 with the body "ok".
    answer: () => ({ status: 200, body: "ok" }),
    path: `/services/T000/B000/${SECRET}`,
    check: (request) => {
      const body = request.json as {
        text: string;
        blocks: Array<{ type: string; text?: { type: string; text: string }; elements?: unknown[] }>;
      };
      assert.deepEqual(Object.keys(body).sort(), ["blocks", "text"]);
      assert.match(body.text, /^\[critical\] push-without-ci \(coder\)\nEvidence: /);
      assert.deepEqual(
        body.blocks.map((b) => b.type),
        ["header", "section", "context"],
      );
      assert.deepEqual(body.blocks[0]?.text, {
        type: "plain_text",
        text: "[critical] push-without-ci (coder)",
      });
      assert.equal(body.blocks[1]?.text?.type, "mrkdwn");
      // mrkdwn's control characters are escaped.
      assert.match(body.blocks[1]?.text?.text ?? "", /Evidence: commit 3f2a9c1 &lt;main&gt; &amp; CI failed/);
      assert.deepEqual(body.blocks[2]?.elements, [{ type: "mrkdwn", text: "Finding f-crit, run 7" }]);
    },
  },
  {
    kind: "discord",
    fields: () => "url: { env: DISCORD_URL }",
    secrets: (url) => ({ DISCORD_URL: `${url}/api/webhooks/123/${SECRET}` }),
    // Discord answers 204 No Content unless ?wait=true.
    answer: () => ({ status: 204 }),
    path: `/api/webhooks/123/${SECRET}`,
    check: (request, sent) => {
      const body = request.json as {
        content: string;
        allowed_mentions: unknown;
        embeds: Array<{
          title: string;
          description: string;
          color: number;
          fields: Array<{ name: string; value: string; inline: boolean }>;
          footer: { text: string };
          timestamp: string;
        }>;
      };
      assert.equal(body.content, "[critical] push-without-ci (coder)");
      assert.deepEqual(body.allowed_mentions, { parse: [] });
      assert.equal(body.embeds.length, 1);
      const embed = body.embeds[0];
      assert.equal(embed?.title, "push-without-ci: f-crit");
      assert.equal(embed?.description, sent.evidence);
      assert.equal(embed?.color, 0xe74c3c);
      assert.deepEqual(
        embed?.fields.map((f) => f.name),
        ["Do", "Article", "Agent"],
      );
      assert.equal(embed?.footer.text, "run 7");
      assert.equal(embed?.timestamp, new Date(sent.lastSeen).toISOString());
    },
  },
  {
    kind: "telegram",
    fields: (url) => `token: { env: TG_TOKEN }, chatId: "-100200300", apiUrl: ${url}`,
    secrets: () => ({ TG_TOKEN: `123456:${SECRET}` }),
    answer: () => ({ status: 200, body: JSON.stringify({ ok: true, result: { message_id: 42 } }) }),
    path: `/bot123456:${SECRET}/sendMessage`,
    check: (request) => {
      const body = request.json as { chat_id: string; text: string; disable_web_page_preview: boolean };
      assert.equal(body.chat_id, "-100200300");
      assert.match(
        body.text,
        /^\[critical\] push-without-ci \(coder\)\nEvidence: commit 3f2a9c1 <main> & CI failed/,
      );
      assert.match(body.text, /\nFinding f-crit, run 7$/);
    },
  },
];

for (const c of CASES) {
  test(`${c.kind}: a finding reaches a loopback receiver in the service's format, and no secret reaches a record`, async (t) => {
    const receiver = await startReceiver(t, c.answer);
    const { dir, stateDir, ledger } = notifierState(t);
    const config = configOf(
      dir,
      `alerts:\n  - { id: ch, kind: ${c.kind}, ${c.fields(receiver.url)}, minSeverity: info }\n`,
    );
    const notifier = createNotifier({
      config: () => config,
      stateDir,
      ledger,
      secrets: c.secrets(receiver.url),
    });
    t.after(() => notifier.close());
    const sent = finding({
      id: "f-crit",
      severity: "critical",
      evidence: "commit 3f2a9c1 <main> & CI failed",
    });
    const report = await notifier.notify([sent], { id: 7 });
    assert.deepEqual(report.alerts, { queued: 1, throttled: 0, belowSeverity: 0, delivered: 1, failed: 0 });
    assert.equal(receiver.received.length, 1);
    const request = receiver.received[0] as Received;
    assert.equal(request.method, "POST");
    assert.equal(request.path, c.path);
    assert.equal(request.headers["content-type"], "application/json");
    c.check(request, sent);
    await notifier.close();
    const events = ledger.query({ kindPrefix: "alert.", limit: 1000 });
    assert.deepEqual(
      events.map((e) => e.kind),
      ["alert.queued", "alert.delivered"],
    );
    ledger.flush();
    const files = ["alerts.db", "alerts.db-wal", "ledger.db", "ledger.db-wal"].map((f) => join(stateDir, f));
    const records = [
      JSON.stringify(events),
      ...files.filter((f) => existsSync(f)).map((f) => readFileSync(f).toString("latin1")),
    ];
    for (const record of records) assert.equal(record.includes(SECRET), false, "the secret is in a record");
  });
}

test("telegram: an answer without ok: true is a failed delivery, even with a 2xx status", async (t) => {
  const receiver = await startReceiver(t, (n) =>
    n === 0
      ? { status: 400, body: JSON.stringify({ ok: false, description: "Bad Request: chat not found" }) }
      : { status: 200, body: JSON.stringify({ ok: false }) },
  );
  const { dir, stateDir, ledger } = notifierState(t);
  const config = configOf(
    dir,
    `alerts:\n  - { id: tg, kind: telegram, token: { env: TG }, chatId: "1", apiUrl: ${receiver.url} }\n`,
  );
  const notifier = createNotifier({
    config: () => config,
    stateDir,
    ledger,
    secrets: { TG: `1:${SECRET}` },
    dispatch: { retryBaseMs: 20 },
  });
  t.after(() => notifier.close());
  const report = await notifier.notify([finding()], { id: 1 });
  assert.equal(report.alerts.failed, 1);
  await waitFor(() => ledger.query({ kind: "alert.failed" }).length >= 2, "the retry to fail too");
  assert.equal(
    JSON.stringify(ledger.query({ limit: 1000 })).includes(SECRET),
    false,
    "a failure quotes no token",
  );
  const errors = ledger.query({ kind: "alert.failed" }).map((e) => e.data.error);
  assert.deepEqual(errors.slice(0, 2), [
    "alerts.tg: the receiver answered 400",
    "alerts.tg: the Bot API did not answer ok: true",
  ]);
});

test("file: JSON lines appended to a file created 0600; stdout: one block per alert", async (t) => {
  const { dir, stateDir, ledger } = notifierState(t);
  const lines: string[] = [];
  const config = configOf(
    dir,
    `alerts:
  - { id: log, kind: file, path: ./alerts/findings.jsonl }
  - { id: term, kind: stdout }
`,
  );
  const notifier = createNotifier({
    config: () => config,
    stateDir,
    ledger,
    secrets: { SOME_KEY: SECRET },
    writeStdout: (text) => lines.push(text),
  });
  t.after(() => notifier.close());
  // Evidence that quotes a secret value the daemon holds is redacted before it goes anywhere.
  const first = finding({ evidence: `log line: Authorization: Bearer ${SECRET}` });
  const second = finding({ severity: "critical" });
  await notifier.notify([first], { id: 1 });
  await notifier.notify([second], { id: 2 });
  const path = join(dir, "alerts", "findings.jsonl");
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const written = readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(written.length, 2);
  assert.deepEqual(
    written.map((w) => (w.finding as { id: string }).id),
    [first.id, second.id],
  );
  assert.equal(
    (written[0]?.finding as { evidence: string }).evidence,
    "log line: Authorization: Bearer [redacted]",
  );
  assert.match(String(written[0]?.ts), /^\d{4}-\d\d-\d\dT/);
  assert.equal(lines.length, 2);
  assert.match(lines[1] ?? "", /^\[critical\] push-without-ci \(coder\)\n {2}Evidence: commit 3f2a9c1/);
  assert.equal(readFileSync(path, "utf8").includes(SECRET), false);
  assert.equal(lines.join("").includes(SECRET), false);
});
