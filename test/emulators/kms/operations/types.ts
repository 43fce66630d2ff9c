import type { KeyStore } from "../key-store.ts";
import type { JsonObject, RequestInput } from "../request-input.ts";

/** One KMS operation: reads its input, returns the JSON response body (`{}` for no output). */
export type OperationHandler = (input: RequestInput, store: KeyStore) => JsonObject;

/** awsJson timestamps are epoch seconds (fractional allowed). */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}
