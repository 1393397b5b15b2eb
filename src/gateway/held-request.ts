/**
 * A validated request, held for the length of its call. When the client's bytes can go to the first
 * provider as they are, only they and the few fields the router reads are kept: the parsed tree is let go
 * once the checks are done. An agent's 57 KB prompt parses into thousands of objects; held for the whole
 * call, every young-generation collection would copy the trees of all calls in flight, while let go they die
 * young and cost the collector nothing. The paths that change the body (a trimmed prompt, another model
 * name, a translation) parse the bytes again, once per call.
 */
import type { ClientFormat } from "./errors.ts";

type Body = Record<string, unknown>;

export interface RequestFields {
  /** The `model` the client asked for (not necessarily a string: the chain lookup decides). */
  readonly model: unknown;
  readonly stream: boolean;
  /** `stream_options.include_usage` is already true (an OpenAI stream then ends with its usage). */
  readonly includeUsage: boolean;
}

export interface HeldRequest extends RequestFields {
  /** The client's bytes, when they are exactly the request (no translation was needed). */
  readonly raw: Buffer | undefined;
  /** The request as an object: the one kept, or the client's bytes parsed again (once). */
  body(): Body;
}

/** The client's request can go to this provider byte for byte: same protocol, same model name, and a stream that already asks for its usage. */
export function passesAsIs(
  client: ClientFormat,
  provider: "openai" | "anthropic",
  fields: RequestFields,
  model: string,
): boolean {
  if (client !== provider || fields.model !== model) return false;
  return !fields.stream || provider !== "openai" || fields.includeUsage;
}

/**
 * Holds `body`. `raw` is the bytes it was parsed from, when it is exactly what they parse to; the tree is
 * let go when `first` (the chain's first entry) takes those bytes as they are.
 */
export function holdRequest(
  client: ClientFormat,
  body: Body,
  raw: Buffer | undefined,
  first: { kind: "openai" | "anthropic"; model: string } | undefined,
): HeldRequest {
  const options = body.stream_options as Body | null | undefined;
  const fields: RequestFields = {
    model: body.model,
    stream: body.stream === true,
    includeUsage: options?.include_usage === true,
  };
  if (!raw || !first || !passesAsIs(client, first.kind, fields, first.model))
    return { ...fields, raw, body: () => body };
  return { ...fields, raw, body: parseOnce(raw) };
}

/** Apart from holdRequest, so that the closure's context holds the bytes and not the tree. */
function parseOnce(raw: Buffer): () => Body {
  let tree: Body | undefined;
  return () => (tree ??= JSON.parse(raw.toString("utf8")) as Body);
}
