/** The functions leasekeeper's template subset knows (see functions.ts for what each does). */
export const FUNCTION_NAMES: ReadonlySet<string> = new Set([
  "secret",
  "printf",
  "toJSON",
  "toJSONPretty",
  "base64Encode",
  "base64Decode",
  "index",
  "eq",
  "ne",
  "not",
  "and",
  "or",
  "len",
]);
