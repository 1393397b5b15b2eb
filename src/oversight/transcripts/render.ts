/** Transcript events as the plain lines the judge reads and quotes: `role: text`, one per event. */

type Loose = Record<string, unknown>;

const isRecord = (value: unknown): value is Loose =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** The text of a content field: a string, or parts with text, tool calls and tool results. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part: unknown) => {
      if (typeof part === "string") return part;
      if (!isRecord(part)) return "";
      if (typeof part.text === "string") return part.text;
      if (part.type === "toolCall" || part.type === "tool_use") {
        const args = part.arguments ?? part.input;
        return `[tool call ${String(part.name)} ${JSON.stringify(args ?? {})}]`;
      }
      if (part.type === "tool_result") return contentText(part.content);
      return "";
    })
    .filter((text) => text !== "")
    .join(" ");
}

/**
 * One event as a line, or undefined for events that carry no conversation (model changes, snapshots).
 * Understands OpenClaw's `{ type: "message", message: { role, content } }`, the `{ type, message }`
 * lines of Claude Code and Codex, and flat `{ role, content }` or `{ role, text }` objects.
 */
export function renderEvent(event: unknown): string | undefined {
  if (!isRecord(event)) return undefined;
  const message = isRecord(event.message) ? event.message : event;
  const role = message.role ?? event.role ?? event.type;
  const text = contentText(
    message.content ?? message.text ?? (typeof event.message === "string" ? event.message : undefined),
  );
  if (typeof role !== "string" || text.trim() === "") return undefined;
  return `${role}: ${text.replace(/\s*\n\s*/g, " ").trim()}`;
}

/** One line of a transcript file: a JSON event rendered, or the line itself when it is plain text. */
export function renderLine(line: string): string | undefined {
  const trimmed = line.trim();
  if (trimmed === "") return undefined;
  if (trimmed.startsWith("{")) {
    try {
      return renderEvent(JSON.parse(trimmed));
    } catch {
      // Not JSON after all: plain text.
    }
  }
  return trimmed;
}
