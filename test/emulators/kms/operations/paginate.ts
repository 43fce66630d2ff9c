/** Limit/Marker pagination shared by ListKeys and ListAliases. The marker is the next item's id. */
import { KmsError } from "../errors.ts";
import type { JsonObject } from "../request-input.ts";

export function paginate<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  limit: number,
  marker: string | undefined,
): { page: T[]; more: JsonObject } {
  let start = 0;
  if (marker !== undefined) {
    start = items.findIndex((item) => idOf(item) === marker);
    if (start < 0) throw new KmsError("InvalidMarkerException", "Invalid marker");
  }
  const page = items.slice(start, start + limit);
  const next = items[start + limit];
  return { page, more: next === undefined ? { Truncated: false } : { Truncated: true, NextMarker: idOf(next) } };
}
