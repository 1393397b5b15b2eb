/** `flotilla schema`: the JSON Schema of flotilla.yaml, for editors and docs. */
import { configJsonSchema } from "../config/schema.ts";
import { type Command, printJson } from "./command.ts";

export const schemaCommand: Command = {
  name: "schema",
  summary: "Print the JSON Schema of flotilla.yaml",
  usage: "flotilla schema",
  async run() {
    printJson(configJsonSchema());
    return 0;
  },
};
