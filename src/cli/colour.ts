/** Whether the CLI colours its output: on a terminal only, never with NO_COLOR set (https://no-color.org). */

export function useColour(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR;
}
