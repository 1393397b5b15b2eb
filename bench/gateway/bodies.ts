/** The request bodies bench/gateway sends: a small chat request and the shape OpenClaw sends. */

const SYSTEM = "You are a careful coding agent working in a git repository. ".repeat(16);
export const smallRequest = (model: string, stream: boolean) =>
  JSON.stringify({
    model,
    max_tokens: 64,
    messages: [
      { role: "system", content: SYSTEM },
      { role: "user", content: "Summarise the failing test in one sentence." },
    ],
    ...(stream ? { stream: true } : {}),
  });

// The shape OpenClaw sends (NOTES): a ~57 KB prompt, 12 tools and tool_choice auto. Measured as a second
// throughput figure, since a proxy's work grows with the body it parses and passes on.
const tool = (i: number) => ({
  type: "function",
  function: {
    name: `workspace_tool_${i}`,
    description: "Runs one step in the agent's workspace and returns what it printed. ".repeat(5),
    parameters: {
      type: "object",
      properties: {
        path: { type: "string", description: "a path in the workspace" },
        command: { type: "string" },
      },
      required: ["path"],
    },
  },
});
export const agentRequest = (model: string) => {
  const messages: Array<{ role: string; content: string }> = [
    { role: "system", content: "You are a careful coding agent working in a git repository. ".repeat(400) },
  ];
  for (let turn = 0; turn < 8; turn++) {
    messages.push({ role: "user", content: "Look at the failing test and say what to change. ".repeat(30) });
    messages.push({
      role: "assistant",
      content: "The test expects another value; the fix is in the parser. ".repeat(30),
    });
  }
  messages.push({ role: "user", content: "Summarise the failing test in one sentence." });
  return JSON.stringify({
    model,
    max_tokens: 64,
    messages,
    tools: Array.from({ length: 12 }, (_, i) => tool(i)),
    tool_choice: "auto",
  });
};
